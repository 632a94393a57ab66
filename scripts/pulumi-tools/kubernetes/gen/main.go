// Command gen writes schema-embed.json and terraform-mapping-embed.json (compact JSON) for the
// provider wrapper, like provider/cmd/pulumi-resource-kubernetes/generate.go upstream does, but
// using only the standard library so it runs without compiling the Pulumi codegen packages.
//
// usage: go run ./gen <provider-module-dir> <out-dir> <version>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gen <provider-module-dir> <out-dir> <version>")
		os.Exit(2)
	}
	modDir, outDir, version := os.Args[1], os.Args[2], os.Args[3]
	src := filepath.Join(modDir, "cmd", "pulumi-resource-kubernetes")

	// schema.json: set "version", keep every other field as is.
	raw, err := os.ReadFile(filepath.Join(src, "schema.json"))
	check(err)
	var schema map[string]json.RawMessage
	check(json.Unmarshal(raw, &schema))
	v, err := json.Marshal(version)
	check(err)
	schema["version"] = v
	out, err := json.Marshal(schema)
	check(err)
	check(os.WriteFile(filepath.Join(outDir, "schema-embed.json"), out, 0o644))

	// terraform-mapping.json: compact only.
	raw, err = os.ReadFile(filepath.Join(src, "terraform-mapping.json"))
	check(err)
	var buf bytes.Buffer
	check(json.Compact(&buf, raw))
	check(os.WriteFile(filepath.Join(outDir, "terraform-mapping-embed.json"), buf.Bytes(), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
