// Command postwebhook sends one webhook to payoutd the way Coinflow does:
// the file's bytes as the body, signed in a Coinflow-Signature header
// (HMAC-SHA256 under the Webhook Validation Key over "t.body", t being
// now). It prints the answer's status and exits 0 on a 200, 1 otherwise, 2
// on bad usage. .ci/package uses it to check a packaged payoutd (the
// container image) end to end.
//
//	PAYOUTD_COINFLOW_WEBHOOK_KEY=... go run ./internal/tools/postwebhook \
//	  --url http://127.0.0.1:8080/webhooks/coinflow testdata/coinflow/fixtures/webhooks/withdraw-success.json
//
// The key is read from the environment variable that --key-env names, never
// from the command line, where any user of the machine could read it.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, time.Now, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, now func() time.Time, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("postwebhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080/webhooks/coinflow", "payoutd's webhook endpoint")
	keyEnv := fs.String("key-env", "PAYOUTD_COINFLOW_WEBHOOK_KEY", "the environment variable holding the Webhook Validation Key")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "postwebhook: name one file holding the webhook body")
		return 2
	}
	key := getenv(*keyEnv)
	if key == "" {
		fmt.Fprintf(stderr, "postwebhook: %s is empty: set it to the Webhook Validation Key\n", *keyEnv)
		return 2
	}
	body, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "postwebhook:", err)
		return 2
	}
	status, err := post(ctx, *target, key, body, now(), *timeout)
	if err != nil {
		fmt.Fprintln(stderr, "postwebhook:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %s\n", *target, status)
	return 0
}

var errNotAccepted = errors.New("webhook not accepted")

// post sends body signed at t and succeeds only on a 200.
func post(ctx context.Context, target, key string, body []byte, t time.Time, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("bad --url: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Coinflow-Signature", coinflowtest.Sign(key, t, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// The answer's body says why a delivery was refused; payoutd's error
	// bodies carry a code and a fixed message, never the key.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: %s %s", errNotAccepted, resp.Status, bytes.TrimSpace(answer))
	}
	return resp.Status, nil
}
