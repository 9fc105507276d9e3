// Package apispec checks payoutd's HTTP answers against its own OpenAPI
// document (api/openapi.yaml, served at /api/v1/openapi.json) with
// kin-openapi. Tests put Handler around the router they serve, or call Check
// on an answer they received, so that every answer of the API a test sees
// is checked without the test doing anything.
//
// Only answers are checked: tests send wrong requests on purpose. An answer
// to a request the document does not describe (a dashboard page, /metrics, an
// unknown route or method) is not checked here; that every route under
// /api/v1 is described is api's TestOpenAPIDescribesEveryRoute.
package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/payoutd/payoutd/api"
)

// Checker checks answers against the document.
type Checker struct {
	Doc    *openapi3.T
	router routers.Router
}

// New loads and validates the document api serves.
func New() (*Checker, error) {
	b, err := api.OpenAPI()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route openapi document: %w", err)
	}
	return &Checker{Doc: doc, router: router}, nil
}

// shared is the one Checker of a test binary: loading the document takes a
// few milliseconds, and hundreds of tests start a server. A Checker is only
// read once built, so tests share it.
var shared = sync.OnceValues(New)

// Shared returns the test binary's Checker.
func Shared() (*Checker, error) { return shared() }

// ErrNotDescribed is returned by Check for a request the document has no
// operation for.
var ErrNotDescribed = errors.New("not described by the openapi document")

// Check checks one answer to req: its status, headers and body. It returns
// nil when the answer conforms, an error wrapping ErrNotDescribed when the
// document has no operation for req, else an error naming what differs.
func (ch *Checker) Check(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := ch.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w (%v)", req.Method, req.URL.Path, ErrNotDescribed, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		MultiError:            true,
		IncludeResponseStatus: true, // a status the document does not list is an error
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
	if err == nil {
		err = emptyAsDescribed(route, status, body)
	}
	if err != nil {
		return fmt.Errorf("%s %s answered %d, which does not match %s in the openapi document: %w", req.Method, req.URL.Path, status, route.Path, err)
	}
	return nil
}

// emptyAsDescribed refuses a body where the document describes none (a 204):
// kin-openapi lets any body through when a response declares no content.
func emptyAsDescribed(route *routers.Route, status int, body []byte) error {
	resp := route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil || len(resp.Value.Content) > 0 || len(body) == 0 {
		return nil
	}
	return fmt.Errorf("the document describes no body, the answer has %d bytes", len(body))
}

// Reporter is where Handler reports a mismatch: a *testing.T.
type Reporter interface {
	Errorf(format string, args ...any)
}

// Handler serves next and checks each of its answers against the document,
// reporting a mismatch (with the method, path, status and the validator's
// message) to t. The answer itself goes to the client unchanged, as it is
// written.
func Handler(t Reporter, next http.Handler) http.Handler {
	ch, err := Shared()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			t.Errorf("apispec: %v", err)
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if r.Context().Err() != nil {
			return // the client left: what it was sent is not an answer to check
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK // net/http's default for a handler that wrote nothing
		}
		if err := ch.Check(r, status, w.Header(), rec.body.Bytes()); err != nil && !errors.Is(err, ErrNotDescribed) {
			t.Errorf("apispec: %v", err)
		}
	})
}

// recorder writes through to the client and keeps a copy of the answer.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b) // what the handler wrote, even where net/http refuses it (a 204's body)
	return r.ResponseWriter.Write(b)
}

// Flush keeps streaming answers streaming.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
