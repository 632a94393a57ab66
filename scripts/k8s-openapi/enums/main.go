// enums: reads the OpenAPI definitions Kubernetes generates in Go
// (pkg/generated/openapi/zz_generated.openapi.go of the k8s.io/kubernetes module) and writes the
// enum values of every field as JSON. The published api/openapi-spec files of the same release omit
// them, so strict validation of enum fields (imagePullPolicy, protocol, Service type, ...) needs this.
//
// Output: {"<v3 schema name>": {"<JSON pointer inside the schema>": ["value", ...]}}, e.g.
// {"io.k8s.api.core.v1.Container": {"properties/imagePullPolicy": ["Always", "IfNotPresent", "Never"]}}.
//
// Usage: go run . <zz_generated.openapi.go> <out.json>
package main

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"sort"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: enums <zz_generated.openapi.go> <out.json>")
		os.Exit(2)
	}
	file, err := parser.ParseFile(token.NewFileSet(), os.Args[1], nil, parser.SkipObjectResolution)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	funcs := map[string]*ast.FuncDecl{}
	var index *ast.FuncDecl
	for _, decl := range file.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		if fn.Name.Name == "GetOpenAPIDefinitions" {
			index = fn
		} else if strings.HasPrefix(fn.Name.Name, "schema_") {
			funcs[fn.Name.Name] = fn
		}
	}
	if index == nil {
		fmt.Fprintln(os.Stderr, "GetOpenAPIDefinitions not found")
		os.Exit(1)
	}

	out := map[string]map[string][]string{}
	ast.Inspect(index, func(n ast.Node) bool {
		kv, ok := n.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		name, ok := stringLit(kv.Key)
		call, isCall := kv.Value.(*ast.CallExpr)
		if !ok || !isCall {
			return true
		}
		ident, ok := call.Fun.(*ast.Ident)
		if !ok || funcs[ident.Name] == nil {
			return true
		}
		enums := map[string][]string{}
		walk(funcs[ident.Name].Body, nil, enums)
		if len(enums) > 0 {
			out[schemaName(name)] = enums
		}
		return false
	})

	data, err := json.MarshalIndent(sorted(out), "", " ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], append(data, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	total := 0
	for _, e := range out {
		total += len(e)
	}
	fmt.Printf("%d enum fields in %d schemas\n", total, len(out))
}

// walk records every `Enum: []interface{}{...}` below n with its JSON pointer inside the schema:
// `Properties: map[string]spec.Schema{"x": ...}` adds properties/x, `Items` adds items and
// `AdditionalProperties` adds additionalProperties.
func walk(n ast.Node, path []string, enums map[string][]string) {
	ast.Inspect(n, func(child ast.Node) bool {
		kv, ok := child.(*ast.KeyValueExpr)
		if !ok {
			return true
		}
		key, ok := kv.Key.(*ast.Ident)
		if !ok {
			// A property of a Properties map: "name": {...}.
			if name, isString := stringLit(kv.Key); isString {
				walk(kv.Value, append(append([]string{}, path...), "properties", name), enums)
				return false
			}
			return true
		}
		switch key.Name {
		case "Items":
			walk(kv.Value, append(append([]string{}, path...), "items"), enums)
			return false
		case "AdditionalProperties":
			walk(kv.Value, append(append([]string{}, path...), "additionalProperties"), enums)
			return false
		case "Enum":
			values := []string{}
			if lit, ok := kv.Value.(*ast.CompositeLit); ok {
				for _, elt := range lit.Elts {
					if s, ok := stringLit(elt); ok {
						values = append(values, s)
					}
				}
			}
			enums[strings.Join(path, "/")] = values
			return false
		case "Extensions", "Description", "Default", "Example":
			// String literals here are values, not property names.
			return false
		}
		return true
	})
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// schemaName maps a Go type path to the name the published OpenAPI v3 documents use:
// k8s.io/api/core/v1.Container -> io.k8s.api.core.v1.Container.
func schemaName(goName string) string {
	domain, rest, _ := strings.Cut(goName, "/")
	parts := strings.Split(domain, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, ".") + "." + strings.ReplaceAll(rest, "/", ".")
}

func sorted(in map[string]map[string][]string) map[string]map[string][]string {
	for _, enums := range in {
		for _, values := range enums {
			sort.Strings(values)
		}
	}
	return in
}
