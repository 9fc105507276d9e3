// Command testsummary reads `go test -json` on stdin and prints what a
// person needs: each package's result, the full output of failing tests, the
// PostgreSQL tests that were skipped for want of a server (named one by one),
// and a closing "N passed, N failed, N skipped" line. Failing tests'
// assertion messages are repeated just above that line, so that a reader of
// the output's tail sees why a test failed even when its full output (logs
// it dumped) is long. It exits 1 when any test or package failed.
// scripts/test pipes go test into it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// skipMarker is the start of dbtest.SkipMessage; kept as text here so this
// tool imports nothing of payoutd.
const skipMarker = "postgres test skipped"

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type result struct {
	passed, failed, skipped int
	pgSkipped               []string
	failedOutput            []string
	failedNames             []string
	packagesFailed          int
}

func main() {
	r, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(1)
	}
	if r.failed > 0 || r.packagesFailed > 0 {
		os.Exit(1)
	}
}

func summarize(in io.Reader, out io.Writer) (*result, error) {
	r := &result{}
	outputs := map[string]*strings.Builder{} // package/test -> output
	key := func(e event) string { return e.Package + "\x00" + e.Test }
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintln(out, string(line)) // build errors and the like
			continue
		}
		switch e.Action {
		case "output":
			b := outputs[key(e)]
			if b == nil {
				b = &strings.Builder{}
				outputs[key(e)] = b
			}
			b.WriteString(e.Output)
		case "build-output":
			fmt.Fprint(out, e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				pkgLine(out, e, outputs[key(e)], r)
				continue
			}
			o := ""
			if b := outputs[key(e)]; b != nil {
				o = b.String()
			}
			switch e.Action {
			case "pass":
				r.passed++
			case "fail":
				r.failed++
				r.failedOutput = append(r.failedOutput, o)
				r.failedNames = append(r.failedNames, shortPkg(e.Package)+" "+e.Test)
			case "skip":
				r.skipped++
				if strings.Contains(o, skipMarker) {
					r.pgSkipped = append(r.pgSkipped, shortPkg(e.Package)+" "+e.Test)
				}
			}
			delete(outputs, key(e))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, o := range r.failedOutput {
		fmt.Fprint(out, "\n", o)
	}
	for i, o := range r.failedOutput {
		if lines := assertionLines(o); len(lines) > 0 {
			fmt.Fprintf(out, "\nwhy %s failed:\n%s\n", r.failedNames[i], strings.Join(lines, "\n"))
		}
	}
	if len(r.pgSkipped) > 0 {
		sort.Strings(r.pgSkipped)
		fmt.Fprintf(out, "\nSKIPPED %d PostgreSQL tests: PAYOUTD_TEST_DATABASE_URL is not set "+
			"(set it to a server where this role may CREATE DATABASE to run them):\n", len(r.pgSkipped))
		for _, s := range r.pgSkipped {
			fmt.Fprintln(out, "  "+s)
		}
	}
	fmt.Fprintf(out, "\n%d passed, %d failed, %d skipped\n", r.passed, r.failed, r.skipped)
	return r, nil
}

func pkgLine(out io.Writer, e event, b *strings.Builder, r *result) {
	switch e.Action {
	case "pass":
		fmt.Fprintf(out, "ok   %s %.1fs\n", e.Package, e.Elapsed)
	case "fail":
		r.packagesFailed++
		fmt.Fprintf(out, "FAIL %s %.1fs\n", e.Package, e.Elapsed)
		if b != nil && r.failed == 0 {
			fmt.Fprint(out, b.String()) // a package that failed outside any test: show why
		}
	}
}

func shortPkg(p string) string {
	return strings.TrimPrefix(p, "github.com/payoutd/payoutd/")
}

// maxAssertionLines bounds what assertionLines keeps of one test's output.
const maxAssertionLines = 40

// assertionLines picks out of a test's output the failure reports: testify's
// blocks (an "Error Trace:" line and the tab-indented lines after it) and
// panics, without the surrounding logs.
func assertionLines(output string) []string {
	var picked []string
	inBlock := false
	for _, line := range strings.Split(output, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "Error Trace:"):
			inBlock = true
		case inBlock && strings.HasPrefix(strings.TrimLeft(line, " "), "\t"):
		case strings.HasPrefix(trimmed, "panic:"):
			inBlock = false
		default:
			inBlock = false
			continue
		}
		if len(picked) == maxAssertionLines {
			return append(picked, "\t(more cut)")
		}
		picked = append(picked, line)
	}
	return picked
}
