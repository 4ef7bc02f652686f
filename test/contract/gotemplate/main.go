// Renders a Go text/template with JSON data, as External Secrets' v2 template engine does for
// templates that use only the standard functions. The contract tests feed it the template the
// stack synthesizes, so the URI MLflow receives is the one ESO would write.
//
// Usage: gotemplate '<template>' < data.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gotemplate '<template>' < data.json")
		os.Exit(2)
	}
	var data map[string]any
	if err := json.NewDecoder(os.Stdin).Decode(&data); err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate: bad JSON:", err)
		os.Exit(2)
	}
	tpl, err := template.New("eso").Option("missingkey=error").Parse(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate: bad template:", err)
		os.Exit(1)
	}
	if err := tpl.Execute(os.Stdout, data); err != nil {
		fmt.Fprintln(os.Stderr, "gotemplate:", err)
		os.Exit(1)
	}
}
