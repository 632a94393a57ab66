// pulumi-language-nodejs: a small Node.js language host for the Pulumi engine.
//
// Why this exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which the
// Go module proxy reachable from our machines does not serve (403 "not
// available" for every version, see ../versions.env). This program implements the
// LanguageRuntime gRPC service on top of the public sdk/v3 module, at the same
// version as the CLI, and delegates all program logic to the scripts that the
// npm package @pulumi/pulumi ships:
//
//	Run       -> node <node_modules>/@pulumi/pulumi/cmd/run             (programs)
//	RunPlugin -> node <node_modules>/@pulumi/pulumi/cmd/run-policy-pack (policy packs, --policy-pack)
//	             node <node_modules>/@pulumi/pulumi/cmd/run-plugin      (Node.js plugins/providers)
//
// Supported Pulumi.yaml runtime options: typescript (default true), tsconfig,
// nodeargs. Not supported: packagemanager selection other than npm for
// `pulumi install`, program generation, Pack/Link, bun.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	pbempty "google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// exitCodeUserActionable is the exit code @pulumi/pulumi/cmd/run uses after it
// has already reported an error to the engine (nodeJSProcessExitedAfterLoggingUserActionableMessage).
const exitCodeUserActionable = 32

func main() {
	// The engine runs us as: pulumi-language-nodejs [--logtostderr] [-v=N] [--tracing URL] <engine-address>.
	// Flags are tolerated and ignored, the engine address is the last positional argument.
	// The version comes from -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v<ver>",
	// as for the CLI; `pulumi-language-nodejs --version` prints it (used by build.sh).
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-version") {
		fmt.Println(pluginVersion())
		return
	}

	var engineAddress, tracing string
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--tracing" || a == "-tracing":
			if i+1 < len(args) {
				tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--tracing=") || strings.HasPrefix(a, "-tracing="):
			tracing = a[strings.IndexByte(a, '=')+1:]
		case strings.HasPrefix(a, "-"):
			// --logtostderr, -v=N, --logflow, -root=..., etc.
		default:
			engineAddress = a
		}
	}

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not find node on the $PATH: %v\n", err)
		os.Exit(1)
	}

	h := &host{nodeBin: nodeBin, engineAddress: engineAddress, tracing: tracing}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start language host RPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: language host RPC stopped serving: %v\n", err)
		os.Exit(1)
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	nodeBin string
	tracing string

	mu            sync.Mutex
	engineAddress string
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) Handshake(_ context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *pbempty.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: pluginVersion()}, nil
}

func pluginVersion() string {
	if version.Version == "" {
		return "v0.0.0-dev"
	}
	return version.Version
}

// programDir returns the directory holding the program (where package.json / node_modules are looked up).
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	if d := info.GetRootDirectory(); d != "" {
		return d
	}
	if fallback != "" {
		return fallback
	}
	wd, _ := os.Getwd()
	return wd
}

// findSDKScript locates node_modules/@pulumi/pulumi/cmd/<name> the way Node's resolver would:
// from dir upwards.
func findSDKScript(dir, name string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(d, "node_modules", "@pulumi", "pulumi", "cmd", name)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("could not find node_modules/@pulumi/pulumi/cmd/%s above %s: "+
				"it looks like the Pulumi SDK has not been installed; have you run npm install?", name, dir)
		}
		d = parent
	}
}

// findNodeModules returns the closest node_modules directory at or above dir.
func findNodeModules(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(d, "node_modules")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return &p, nil
}

// listPackages returns the package.json paths of the top-level packages in node_modules (including scoped ones).
func listPackages(nodeModules string) []string {
	var out []string
	entries, err := os.ReadDir(nodeModules)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(filepath.Join(nodeModules, name))
			if err != nil {
				continue
			}
			for _, s := range scoped {
				out = append(out, filepath.Join(nodeModules, name, s.Name(), "package.json"))
			}
			continue
		}
		out = append(out, filepath.Join(nodeModules, name, "package.json"))
	}
	sort.Strings(out)
	return out
}

type pluginDep struct{ name, version, server string }

// requiredPlugins finds installed npm packages that declare a Pulumi resource plugin
// ("pulumi": {"resource": true, ...} in package.json).
func requiredPlugins(dir string) ([]pluginDep, error) {
	nm := findNodeModules(dir)
	if nm == "" {
		return nil, nil
	}
	seen := map[string]bool{}
	var deps []pluginDep
	for _, pj := range listPackages(nm) {
		p, err := readPackageJSON(pj)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if !p.Pulumi.Resource {
			continue
		}
		name := p.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(p.Name, "@pulumi/")
			name = strings.TrimPrefix(name, "@")
		}
		v := p.Pulumi.Version
		if v == "" {
			v = p.Version
		}
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		key := name + "@" + v
		if seen[key] {
			continue
		}
		seen[key] = true
		deps = append(deps, pluginDep{name: name, version: v, server: p.Pulumi.Server})
	}
	return deps, nil
}

func (h *host) GetRequiredPlugins(_ context.Context,
	req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := requiredPlugins(programDir(req.GetInfo(), req.GetPwd())) //nolint:staticcheck
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPluginsResponse{}
	for _, d := range deps {
		resp.Plugins = append(resp.Plugins, &pulumirpc.PluginDependency{
			Name: d.name, Kind: "resource", Version: d.version, Server: d.server,
		})
	}
	return resp, nil
}

func (h *host) GetRequiredPackages(_ context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := requiredPlugins(programDir(req.GetInfo(), ""))
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, d := range deps {
		resp.Packages = append(resp.Packages, &pulumirpc.PackageDependency{
			Name: d.name, Kind: "resource", Version: d.version, Server: d.server,
		})
	}
	return resp, nil
}

// runtimeOptions reads the Pulumi.yaml `runtime.options` map.
func runtimeOptions(info *pulumirpc.ProgramInfo) map[string]any {
	if info.GetOptions() == nil {
		return map[string]any{}
	}
	return info.GetOptions().AsMap()
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	opts := runtimeOptions(info)

	runPath, err := findSDKScript(dir, "run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	var args []string
	if nodeargs, ok := opts["nodeargs"].(string); ok && nodeargs != "" {
		args = append(args, strings.Fields(nodeargs)...)
	}
	args = append(args, runPath)
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("root-directory", info.GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		add("parallel", fmt.Sprint(req.GetParallel()))
	}
	add("tracing", h.tracing)
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram() //nolint:staticcheck
	}
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration: %w", err)
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}

	env := os.Environ()
	env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	typescript := true
	if ts, ok := opts["typescript"].(bool); ok {
		typescript = ts
	}
	if typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if tsconfig, ok := opts["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	cmd := exec.CommandContext(ctx, h.nodeBin, args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	// The engine forwards our stdout/stderr (after the port line) to the user.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				if ws.ExitStatus() == exitCodeUserActionable {
					return &pulumirpc.RunResponse{Bail: true}, nil
				}
				return &pulumirpc.RunResponse{
					Error: fmt.Sprintf("Program exited with non-zero exit code: %d", ws.ExitStatus()),
				}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a Node.js plugin from source: a policy pack (kind "analyzer", used by
// `pulumi preview/up --policy-pack DIR`) or a provider/component plugin.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	dir := programDir(req.GetInfo(), req.GetProgram()) //nolint:staticcheck
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	var args []string
	cwd := req.GetPwd()
	if req.GetKind() == "analyzer" {
		// usage: run-policy-pack <engine-address> <program>
		script, err := findSDKScript(absDir, "run-policy-pack")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		args = append([]string{script}, req.GetArgs()...)
		args = append(args, absDir)
		// Like the engine's legacy policy analyzer, run with the pack as working directory so its
		// tsconfig.json and node_modules are the ones used.
		cwd = absDir
	} else {
		// usage: run-plugin <program> [args...]
		script, err := findSDKScript(absDir, "run-plugin")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		args = append([]string{script, absDir}, req.GetArgs()...)
	}

	cmd := exec.CommandContext(server.Context(), h.nodeBin, args...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}

	var sendMu sync.Mutex
	send := func(r *pulumirpc.RunPluginResponse) {
		sendMu.Lock()
		defer sendMu.Unlock()
		_ = server.Send(r)
	}
	pump := func(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse, wg *sync.WaitGroup) {
		defer wg.Done()
		buf := make([]byte, 32*1024)
		for {
			n, err := r.Read(buf)
			if n > 0 {
				chunk := make([]byte, n)
				copy(chunk, buf[:n])
				send(wrap(chunk))
			}
			if err != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go pump(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, &wg)
	go pump(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, &wg)
	wg.Wait()

	code := 0
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return err
		}
		code = exitErr.ExitCode()
	}
	send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
	return nil
}

// InstallDependencies runs `npm install` (used by `pulumi install`).
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := programDir(req.GetInfo(), req.GetDirectory()) //nolint:staticcheck
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("could not find npm on the $PATH: %w", err)
	}
	cmd := exec.CommandContext(server.Context(), npm, "install")
	cmd.Dir = dir
	out := &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	errw := &streamWriter{send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	cmd.Stdout, cmd.Stderr = out, errw
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install failed in %s: %w", dir, err)
	}
	return nil
}

type streamWriter struct {
	mu   sync.Mutex
	send func([]byte) error
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := make([]byte, len(p))
	copy(b, p)
	if err := w.send(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	out, err := exec.CommandContext(ctx, h.nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: h.nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies reports the direct dependencies of package.json with their installed versions.
func (h *host) GetProgramDependencies(_ context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd()) //nolint:staticcheck
	p, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for n := range p.Dependencies {
		names[n] = true
	}
	if req.GetTransitiveDependencies() {
		for n := range p.DevDependencies {
			names[n] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	nm := findNodeModules(dir)
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, n := range sorted {
		v := p.Dependencies[n]
		if nm != "" {
			if installed, err := readPackageJSON(filepath.Join(nm, n, "package.json")); err == nil {
				v = installed.Version
			}
		}
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	return resp, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
