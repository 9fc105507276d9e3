package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// healthcheckCommand asks a running payoutd whether it is ready: a GET of
// /readyz that must answer 200 within --timeout. It is the container
// image's HEALTHCHECK, since an image FROM scratch has no curl: exit 0
// when ready, 1 otherwise.
func healthcheckCommand(fs *flag.FlagSet) action {
	target := fs.String("url", "", "the /readyz URL to ask (default: /readyz on the configured listen address)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	return func(ctx context.Context, e env) error {
		u := *target
		if u == "" {
			// Loaded here (configOwn), so that a configuration problem
			// exits 1 like any unhealthy answer: Docker reserves a
			// HEALTHCHECK's exit code 2.
			cfg, _, errs := load(e.configPath, e.explicitConfig, e.getenv)
			if len(errs) > 0 {
				return fmt.Errorf("healthcheck: the configuration has %d problem(s), first: %w", len(errs), errs[0])
			}
			u = readyzURL(cfg.Listen)
		}
		if *timeout <= 0 {
			// Exit 1 like any other failure: Docker reserves a
			// HEALTHCHECK's exit code 2.
			return fmt.Errorf("healthcheck: --timeout must be positive, got %s", *timeout)
		}
		status, err := healthcheck(ctx, u, *timeout)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: %s\n", u, status)
		return nil
	}
}

// readyzURL is /readyz on listen, the address payoutd serves on: a
// wildcard host (0.0.0.0, ::, or none) is asked on loopback, where the
// daemon also answers.
func readyzURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		// Config validation rejects such a listen address; keep the
		// value so that the error names it.
		return "http://" + listen + "/readyz"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return (&url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/readyz"}).String()
}

// healthcheck GETs u and succeeds only on a 200. Redirects are not
// followed: /readyz never redirects, so one means something else answers.
func healthcheck(ctx context.Context, u string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("healthcheck: bad --url: %w", err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("healthcheck %s: %w", u, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("healthcheck %s: not ready: %s", u, resp.Status)
	}
	return resp.Status, nil
}
