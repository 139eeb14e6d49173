// Command sdkgen writes the finetune package's SDKs with Pulumi's own code generators.
//
//	sdkgen SCHEMA.json OUT_DIR
//
// It binds the package schema (schema.BindSpec, which validates it against Pulumi's metaschema)
// and runs the Node.js, Go and Python generators of github.com/pulumi/pulumi/pkg/v3/codegen, the
// module the pinned CLI is built from, writing OUT_DIR/nodejs, OUT_DIR/go and OUT_DIR/python.
// Each directory is replaced whole, so a file the generators no longer write does not linger.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

const tool = "pulumi-finetune sdkgen"

// noLoader refuses every package: the finetune schema refers to no other package.
type noLoader struct{}

var errNoDependencies = errors.New("the finetune schema refers to no other package")

func (noLoader) LoadPackage(string, *semver.Version) (*schema.Package, error) {
	return nil, errNoDependencies
}

func (noLoader) LoadPackageV2(context.Context, *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, errNoDependencies
}

func (noLoader) LoadPackageReference(string, *semver.Version) (schema.PackageReference, error) {
	return nil, errNoDependencies
}

func (noLoader) LoadPackageReferenceV2(
	context.Context, *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, errNoDependencies
}

func bind(path string) (*schema.Package, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pkg, diags, err := schema.BindSpec(spec, noLoader{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema does not bind: %s", diags.Error())
	}
	return pkg, nil
}

// generate binds the schema afresh for each language: the generators record their language's
// settings on the package they are given.
func generate(schemaPath, language string) (map[string][]byte, error) {
	pkg, err := bind(schemaPath)
	if err != nil {
		return nil, err
	}
	switch language {
	case "nodejs":
		// localSDK: the package.json builds the SDK on install (`npm install PATH`).
		return nodejs.GeneratePackage(tool, pkg, nil, nil, true, noLoader{})
	case "go":
		return gogen.GeneratePackage(tool, pkg, nil)
	case "python":
		return python.GeneratePackage(tool, pkg, nil, noLoader{})
	}
	return nil, fmt.Errorf("unknown language %q", language)
}

func write(dir string, files map[string][]byte) error {
	tmp := dir + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for name, content := range files {
		target := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

func run(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: sdkgen SCHEMA.json OUT_DIR")
	}
	schemaPath, out := args[0], args[1]
	for _, language := range []string{"nodejs", "go", "python"} {
		files, err := generate(schemaPath, language)
		if err != nil {
			return fmt.Errorf("%s: %w", language, err)
		}
		if err := write(filepath.Join(out, language), files); err != nil {
			return fmt.Errorf("%s: %w", language, err)
		}
	}
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "sdkgen: %v\n", err)
		os.Exit(1)
	}
}
