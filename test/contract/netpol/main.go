// Decides NetworkPolicy verdicts with cyclonus's matcher (github.com/mattfenwick/cyclonus, the
// network-policy conformance tool of Kubernetes SIG Network's ecosystem), so the contract tests
// check our policies against an implementation of the Kubernetes semantics that is not ours.
//
// Usage: netpol < {"policies": [NetworkPolicy...], "traffic": [cyclonus Traffic...]}
// Prints a JSON list with, per traffic, {"ingress": bool, "egress": bool, "allowed": bool}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	networkingv1 "k8s.io/api/networking/v1"
)

type input struct {
	Policies []*networkingv1.NetworkPolicy `json:"policies"`
	Traffic  []*matcher.Traffic            `json:"traffic"`
}

type verdict struct {
	Ingress bool `json:"ingress"`
	Egress  bool `json:"egress"`
	Allowed bool `json:"allowed"`
}

func main() {
	var in input
	decoder := json.NewDecoder(os.Stdin)
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "netpol: bad input:", err)
		os.Exit(2)
	}
	// No simplification: the policies are judged exactly as written.
	policy := matcher.BuildNetworkPolicies(false, in.Policies)
	out := make([]verdict, 0, len(in.Traffic))
	for _, t := range in.Traffic {
		r := policy.IsTrafficAllowed(t)
		out = append(out, verdict{Ingress: r.Ingress.IsAllowed(), Egress: r.Egress.IsAllowed(), Allowed: r.IsAllowed()})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "netpol:", err)
		os.Exit(1)
	}
}
