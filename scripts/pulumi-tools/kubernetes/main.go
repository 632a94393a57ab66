// pulumi-resource-kubernetes built from the github.com/pulumi/pulumi-kubernetes/provider/v4
// Go module. Mirrors provider/cmd/pulumi-resource-kubernetes/main.go of that module, whose
// schema-embed.json / terraform-mapping-embed.json are produced by `go generate` and are not in
// the module zip. ../build.sh generates them (go run ./gen) from the module's schema.json and
// terraform-mapping.json, with the schema "version" set to PULUMI_KUBERNETES_VERSION.
//
// The provider version reported to the engine is set with
// -ldflags "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=<ver>".
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

var providerName = "kubernetes"

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve(providerName, version.Version, pulumiSchema, terraformMapping)
}
