// Package contract checks HTTP exchanges with Coinflow against Coinflow's
// published OpenAPI document (testdata/coinflow/openapi-payouts.json at the
// repository root, an OpenAPI 3.1 subset) with kin-openapi. Tests put a
// Recorder in front of the client's transport: every request the client
// sends and every response the emulator returns is validated.
//
// The published document contradicts itself or the docs in places; those
// are listed in KnownContradictions and reported by name, never skipped
// silently.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecPath finds testdata/coinflow/openapi-payouts.json in the repository
// holding the working directory. It walks up to go.mod rather than trusting a
// fixed number of "..", so any package's tests find it.
func SpecPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("coinflow spec: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("coinflow spec: no go.mod above the working directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "testdata", "coinflow", "openapi-payouts.json")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("coinflow spec: %w", err)
	}
	return p, nil
}

// Contradiction is a place where the published spec disagrees with
// Coinflow's documentation; Match recognises the validation error it causes.
type Contradiction struct {
	Name  string
	Why   string
	Match func(method, path string, err error) bool
}

// KnownContradictions are documented in testdata/coinflow/README.md.
var KnownContradictions = []Contradiction{{
	Name: "withdraw-auth-header",
	Why: "the spec declares x-coinflow-auth-wallet as the only (required) credential of GET /withdraw, " +
		"while Coinflow's merchant guides identify the withdrawer by x-coinflow-auth-user-id with the API key " +
		"(README section 2); the client sends the documented headers",
	Match: func(method, path string, err error) bool {
		return strings.HasPrefix(path, "/withdraw") && strings.Contains(err.Error(), "x-coinflow-auth-wallet")
	},
}}

// Validator validates exchanges for one server URL.
type Validator struct {
	router routers.Router
}

// New loads the spec and routes it at serverURL (the emulator's base).
func New(serverURL string) (*Validator, error) {
	path, err := SpecPath()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: strings.TrimRight(serverURL, "/")}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route spec: %w", err)
	}
	return &Validator{router: router}, nil
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		MultiError:              true,
		IncludeResponseStatus:   true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableJSONSchema2020()},
	}
}

// Exchange is one validated request and response.
type Exchange struct {
	Method      string
	Path        string // the operation's path in the spec, e.g. /merchant/withdraws/{withdrawalId}
	Status      int
	RequestErr  error // nil when the request conforms
	ResponseErr error // nil when the response conforms
	Known       []string
}

// Check validates a request (with its body) and its response.
func (v *Validator) Check(req *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) Exchange {
	ex := Exchange{Method: req.Method, Path: req.URL.Path, Status: status}
	r2 := req.Clone(context.Background())
	r2.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := v.router.FindRoute(r2)
	if err != nil {
		ex.RequestErr = fmt.Errorf("no operation in the spec for %s %s: %w", req.Method, req.URL.Path, err)
		return ex
	}
	ex.Path = route.Path // the spec's path template, without the server's base path
	in := &openapi3filter.RequestValidationInput{Request: r2, PathParams: params, Route: route, Options: options()}
	ex.RequestErr = v.known(&ex, openapi3filter.ValidateRequest(context.Background(), in))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: options(),
	}
	ex.ResponseErr = v.known(&ex, openapi3filter.ValidateResponse(context.Background(), out))
	return ex
}

// known drops errors explained by a known contradiction, recording its name.
func (v *Validator) known(ex *Exchange, err error) error {
	if err == nil {
		return nil
	}
	var errs []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	} else {
		errs = []error{err}
	}
	var left []error
	for _, e := range errs {
		matched := false
		for _, c := range KnownContradictions {
			if c.Match(ex.Method, ex.Path, e) {
				ex.Known = append(ex.Known, c.Name)
				matched = true
				break
			}
		}
		if !matched {
			left = append(left, e)
		}
	}
	return errors.Join(left...)
}

// Recorder is an http.RoundTripper that validates every exchange through it.
type Recorder struct {
	Base      http.RoundTripper
	Validator *Validator

	mu        sync.Mutex
	exchanges []Exchange
}

// RoundTrip sends the request and validates both sides.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // a truncated body is the client's to handle
	}
	ex := r.Validator.Check(req, reqBody, resp.StatusCode, resp.Header, respBody)
	r.mu.Lock()
	r.exchanges = append(r.exchanges, ex)
	r.mu.Unlock()
	return resp, nil
}

// Exchanges returns what was validated so far.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}
