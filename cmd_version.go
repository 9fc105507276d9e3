package main

import (
	"context"
	"flag"
	"fmt"
)

// versionCommand prints what this binary is (also payoutd --version).
func versionCommand(*flag.FlagSet) action {
	return func(_ context.Context, e env) error {
		_, err := fmt.Fprintln(e.stdout, buildVersion())
		return err
	}
}
