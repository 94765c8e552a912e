// Command parley-k8s-strict decodes Kubernetes objects strictly into the API's Go types, the
// way the API server's strict field validation does: an unknown field, a duplicate field or a
// wrong type is an error. Reads YAML documents on stdin; prints one line per problem and exits
// 1 when there is any. Kinds the client-go scheme does not know (CRDs: KEDA, prometheus-operator)
// are listed as "skipped" and checked elsewhere (test/k8s/support/validate-k8s.mjs).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

func main() {
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, json.SerializerOptions{Yaml: true, Strict: true})
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	problems, checked := 0, 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Printf("error: reading YAML: %v\n", err)
			os.Exit(2)
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := utilyaml.Unmarshal(doc, &meta); err != nil {
			problems++
			fmt.Printf("error: a document without readable apiVersion/kind/metadata.name: %v\n", err)
			continue
		}
		if meta.Kind == "" {
			continue // an empty document (comments only)
		}
		name := fmt.Sprintf("%s/%s/%s", meta.APIVersion, meta.Kind, meta.Metadata.Name)
		_, _, err = strict.Decode(doc, nil, nil)
		switch {
		case err == nil:
			checked++
		case runtime.IsNotRegisteredError(err):
			fmt.Printf("skipped: %s (not a built-in kind)\n", name)
		default:
			problems++
			fmt.Printf("error: %s: %v\n", name, err)
		}
	}
	fmt.Printf("checked: %d\n", checked)
	if problems > 0 {
		os.Exit(1)
	}
}
