package coinflow_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
)

// collect runs the iterator to its end and returns the ids it yielded and
// the errors, requiring that nothing follows an error.
func collect(t *testing.T, seq func(yield func(*coinflow.Withdrawer, error) bool)) (ids []string, errs []error) {
	t.Helper()
	for w, err := range seq {
		require.Empty(t, errs, "nothing after an error")
		if err != nil {
			require.Nil(t, w, "an error comes with a nil withdrawer")
			errs = append(errs, err)
			continue
		}
		require.NotNil(t, w)
		ids = append(ids, w.ID)
	}
	return ids, errs
}

func TestEachWithdrawerSendsAndDecodes(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t, reply{status: 200, body: fixture(t, "merchant-withdrawers.json")})
	blocked := true
	var ws []*coinflow.Withdrawer
	for w, err := range c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{Blocked: &blocked, Search: "u 1"}) {
		require.NoError(t, err)
		ws = append(ws, w)
	}
	got := srv.only(t)
	requireSent(t, got, "GET", "/merchant/withdrawers", "", "")
	require.Equal(t, "blocked=true&search=u+1", got.Query)

	// The same withdrawers as the whole-array call, each its own value.
	all, err := c.Withdrawers(t.Context(), coinflow.ListWithdrawersParams{})
	require.NoError(t, err)
	require.Len(t, ws, len(all))
	for i := range all {
		require.Equal(t, all[i], *ws[i])
	}
	require.Equal(t, "u-1001", ws[0].UserID())
	require.True(t, ws[2].Blocked())
	require.NotSame(t, ws[0], ws[1])
}

func TestEachWithdrawerAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		body    string
		ids     []string
		err     error // nil: no error
		status  int
		retried bool // the request was resent (the error came before the first element)
	}{
		{"empty", `[]`, nil, nil, 0, false},
		{"null", ` null `, nil, nil, 0, false},
		{"white space", " [ {\"_id\":\"a\"} ,\n {\"_id\":\"b\"} ] \n", []string{"a", "b"}, nil, 0, false},
		{"not an array", `{"msg":"ok"}`, nil, coinflow.ErrMalformedResponse, 0, true},
		{"nothing", ``, nil, coinflow.ErrMalformedResponse, 0, true},
		{"garbled first element", `[{"_id":}]`, nil, coinflow.ErrMalformedResponse, 0, true},
		{"garbled later element", `[{"_id":"a"},{"_id":"b"},{"_id":]`, []string{"a", "b"}, coinflow.ErrMalformedResponse, 0, false},
		{"wrong type later", `[{"_id":"a"},{"_id":5}]`, []string{"a"}, coinflow.ErrMalformedResponse, 0, false},
		{"data after the array", `[{"_id":"a"}] [`, []string{"a"}, coinflow.ErrMalformedResponse, 0, false},
		{"data after null", `null x`, nil, coinflow.ErrMalformedResponse, 0, true},
		{"ends early", `[{"_id":"a"},{"_id":"b"}`, []string{"a", "b"}, io.ErrUnexpectedEOF, 0, false},
		{"ends in the first element", `[{"_id":"a"`, nil, io.ErrUnexpectedEOF, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, c := newStub(t, reply{status: 200, body: tc.body})
			ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
			require.Equal(t, tc.ids, ids)
			calls := len(srv.requests())
			if tc.err == nil {
				require.Empty(t, errs)
				require.Equal(t, 1, calls)
				return
			}
			require.Len(t, errs, 1)
			require.ErrorIs(t, errs[0], tc.err)
			e := apiError(t, errs[0])
			require.Equal(t, tc.status, e.StatusCode)
			if tc.retried {
				require.Equal(t, 3, calls, "resent before the first element")
				require.Equal(t, 3, e.Attempts)
			} else {
				require.Equal(t, 1, calls, "never resent after an element was yielded")
				require.Equal(t, 1, e.Attempts)
			}
		})
	}
}

func TestEachWithdrawerRetriesBeforeTheFirstElement(t *testing.T) {
	t.Parallel()
	srv, c := newStub(t,
		reply{status: 503, body: `{"msg":"busy"}`},
		reply{status: 429, body: `{"msg":"slow down"}`, retryAfter: time.Second},
		reply{status: 200, body: `[{"_id":"a"},{"_id":"b"}]`})
	ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Empty(t, errs)
	require.Equal(t, []string{"a", "b"}, ids)
	require.Len(t, srv.requests(), 3)

	srv, c = newStub(t, reply{status: 401, body: `{"msg":"Unauthorized"}`})
	ids, errs = collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Empty(t, ids)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], coinflow.ErrUnauthorized)
	require.Len(t, srv.requests(), 1)

	srv, c = newStub(t, reply{status: 500, body: `{"msg":"oops"}`})
	_, errs = collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], coinflow.ErrUnavailable)
	require.Equal(t, 3, apiError(t, errs[0]).Attempts)
	require.Len(t, srv.requests(), 3)
}

// cutServer answers 200 with a Content-Length beyond what it writes: the
// connection closes after prefix, as a broken one would. Every answer
// after the cut ones is whole.
func cutServer(t *testing.T, whole, prefix string, cuts int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(whole)))
		if int(n) <= cuts {
			io.WriteString(w, prefix)
			return
		}
		io.WriteString(w, whole)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestEachWithdrawerBrokenConnection(t *testing.T) {
	t.Parallel()
	whole := `[{"_id":"a"},{"_id":"b"},{"_id":"c"}]`
	// Cut inside the first element: resent, and the second answer is read whole.
	srv, calls := cutServer(t, whole, `[{"_id":"`, 1)
	c, err := coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: testAPIKey, SleepFunc: noSleep})
	require.NoError(t, err)
	ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Empty(t, errs)
	require.Equal(t, []string{"a", "b", "c"}, ids)
	require.EqualValues(t, 2, calls.Load())

	// Cut after the first element: it was yielded, so the error ends the
	// sequence and nothing is resent.
	srv, calls = cutServer(t, whole, `[{"_id":"a"},{"_id":"b`, 1)
	c, err = coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: testAPIKey, SleepFunc: noSleep})
	require.NoError(t, err)
	ids, errs = collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Equal(t, []string{"a"}, ids)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], coinflow.ErrUnavailable)
	require.ErrorIs(t, errs[0], io.ErrUnexpectedEOF)
	e := apiError(t, errs[0])
	require.Zero(t, e.StatusCode)
	require.True(t, e.OutcomeUnknown())
	require.EqualValues(t, 1, calls.Load())
	require.NotContains(t, errs[0].Error(), testAPIKey)
}

func TestEachWithdrawerElementLimit(t *testing.T) {
	t.Parallel()
	big := func(n int) string { return `{"_id":"big","email":"` + strings.Repeat("x", n) + `"}` }
	// Many elements together far over the limit, one large one under it.
	var ok strings.Builder
	ok.WriteString("[")
	for i := range 3_000 {
		fmt.Fprintf(&ok, `{"_id":"w-%d","email":"%s"},`, i, strings.Repeat("y", 500))
	}
	ok.WriteString(big(700 << 10))
	ok.WriteString(`,{"_id":"last"}]`)
	_, c := newStub(t, reply{status: 200, body: ok.String()})
	ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Empty(t, errs)
	require.Len(t, ids, 3_002)
	require.Equal(t, "big", ids[3_000])
	require.Equal(t, "last", ids[3_001])

	// An element over the limit ends the stream; it is not resent even
	// before the first element, since it would come back as large.
	for name, tc := range map[string]struct {
		body string
		ids  []string
	}{
		"later": {`[{"_id":"a"},` + big(2<<20) + `,{"_id":"c"}]`, []string{"a"}},
		"first": {`[` + big(2<<20) + `]`, nil},
	} {
		srv, c := newStub(t, reply{status: 200, body: tc.body})
		ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
		require.Equal(t, tc.ids, ids, name)
		require.Len(t, errs, 1, name)
		require.ErrorIs(t, errs[0], coinflow.ErrMalformedResponse, name)
		e := apiError(t, errs[0])
		require.Equal(t, http.StatusOK, e.StatusCode, name)
		require.Len(t, srv.requests(), 1, name)
	}
}

// TestEachWithdrawerTimeout: Timeout bounds each wait for data, not the
// stream, and not the time the caller takes between elements.
func TestEachWithdrawerTimeout(t *testing.T) {
	t.Parallel()
	stall := stallServer(t)
	c, err := coinflow.New(coinflow.Config{BaseURL: stall.URL, APIKey: testAPIKey, Timeout: 200 * time.Millisecond, SleepFunc: noSleep})
	require.NoError(t, err)
	start := time.Now()
	ids, errs := collect(t, c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, []string{"a"}, ids)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], coinflow.ErrUnavailable)
	require.Zero(t, apiError(t, errs[0]).StatusCode)

	// A slow caller: 3 × 300ms between elements against a 200ms timeout.
	srv, _ := newStub(t, reply{status: 200, body: `[{"_id":"a"},{"_id":"b"},{"_id":"c"}]`})
	c2, err := coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: testAPIKey, Timeout: 200 * time.Millisecond, SleepFunc: noSleep})
	require.NoError(t, err)
	var slow []string
	for w, err := range c2.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}) {
		require.NoError(t, err)
		slow = append(slow, w.ID)
		time.Sleep(300 * time.Millisecond)
	}
	require.Equal(t, []string{"a", "b", "c"}, slow)
}

func TestEachWithdrawerStops(t *testing.T) {
	t.Parallel()
	body := `[{"_id":"a"},{"_id":"b"},{"_id":"c"}]`
	srv, c := newStub(t, reply{status: 200, body: body})
	n := 0
	for _, err := range c.EachWithdrawer(t.Context(), coinflow.ListWithdrawersParams{}) {
		require.NoError(t, err)
		n++
		if n == 2 {
			break
		}
	}
	require.Equal(t, 2, n)
	require.Len(t, srv.requests(), 1)

	// The caller's context ends mid-stream: its error, once, and not an
	// *APIError.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, err := coinflow.New(coinflow.Config{BaseURL: stallServer(t).URL, APIKey: testAPIKey, SleepFunc: noSleep})
	require.NoError(t, err)
	var errs []error
	n = 0
	for w, err := range c.EachWithdrawer(ctx, coinflow.ListWithdrawersParams{}) {
		if err != nil {
			require.Nil(t, w)
			errs = append(errs, err)
			continue
		}
		require.Empty(t, errs)
		n++
		cancel()
	}
	require.Equal(t, 1, n)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], context.Canceled)
	_, isAPI := errors.AsType[*coinflow.APIError](errs[0])
	require.False(t, isAPI)
}

// stallServer sends one withdrawer of an array, then nothing until the
// request ends.
func stallServer(t *testing.T) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"_id":"a"},`)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close()
	})
	return srv
}
