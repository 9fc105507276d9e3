package coinflow_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

// sentRequest is what a stub server received.
type sentRequest struct {
	Method string
	Path   string // escaped, as on the wire
	Query  string
	Header http.Header
	Body   []byte
}

// reply is one scripted answer of a stub server.
type reply struct {
	status     int
	body       string
	retryAfter time.Duration
}

// stubServer answers each request with the next scripted reply (the last
// one repeats) and keeps every request.
type stubServer struct {
	*httptest.Server
	mu      sync.Mutex
	sent    []sentRequest
	replies []reply
}

// newStub starts a stub server with replies and a client for it that
// retries up to three times without waiting.
func newStub(t *testing.T, replies ...reply) (*stubServer, *coinflow.Client) {
	t.Helper()
	require.NotEmpty(t, replies)
	s := &stubServer{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.sent = append(s.sent, sentRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
		rep := s.replies[min(len(s.sent), len(s.replies))-1]
		s.mu.Unlock()
		if rep.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(rep.retryAfter/time.Second)))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(s.Close)
	c, err := coinflow.New(coinflow.Config{BaseURL: s.URL, APIKey: testAPIKey, MaxAttempts: 3, SleepFunc: noSleep})
	require.NoError(t, err)
	return s, c
}

func (s *stubServer) requests() []sentRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentRequest(nil), s.sent...)
}

// only returns the one request the stub received.
func (s *stubServer) only(t *testing.T) sentRequest {
	t.Helper()
	got := s.requests()
	require.Len(t, got, 1, "requests sent")
	return got[0]
}

// requireSent checks one request: method, escaped path, the API key, the
// user header (none when userID is empty) and the JSON body (none when
// wantBody is empty).
func requireSent(t *testing.T, got sentRequest, method, path, userID, wantBody string) {
	t.Helper()
	require.Equal(t, method, got.Method)
	require.Equal(t, path, got.Path)
	require.Equal(t, testAPIKey, got.Header.Get("Authorization"))
	require.Equal(t, userID, got.Header.Get("x-coinflow-auth-user-id"))
	if userID != "" {
		require.Equal(t, "solana", got.Header.Get("x-coinflow-auth-blockchain"))
	}
	if wantBody == "" {
		require.Empty(t, got.Body)
		return
	}
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.JSONEq(t, wantBody, string(got.Body))
}

// requireNoSecret fails if err's text or any of its fields shows one of
// secrets.
func requireNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	require.Error(t, err)
	e := apiError(t, err)
	for _, s := range secrets {
		require.NotContains(t, err.Error(), s)
		require.NotContains(t, e.Message, s)
		require.NotContains(t, e.VerificationLink, s)
	}
}

// fixture reads a recorded API body.
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "coinflow", "fixtures", "api", name))
	require.NoError(t, err)
	return string(b)
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
