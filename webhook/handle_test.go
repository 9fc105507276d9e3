package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/webhook"
)

// bareEndpoint serves the webhook endpoint alone, on its own gin engine and
// without a store: enough for every answer given before the commit.
func bareEndpoint(t *testing.T) string {
	t.Helper()
	logger, _ := logtest.NewNullLogger()
	h, err := webhook.NewHandler(nil, metrics.New(), logger.WithField("component", "webhook"),
		webhook.HandlerConfig{Key: []byte("test-key")})
	require.NoError(t, err)
	var handle gin.HandlerFunc = h.Handle
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/webhooks/coinflow", handle)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL + "/webhooks/coinflow"
}

func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(b, &out), "%s", b)
	return out.Error.Code
}

func TestHandleMountsAsGinHandlerFunc(t *testing.T) {
	t.Parallel()
	url := bareEndpoint(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{}`))
	require.NoError(t, err)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, "unauthenticated", errorCode(t, resp))
}

// stalledBody is a request body that never sends a byte: Read blocks until
// ctx ends. (The transport waits for its body writer before it returns a
// timeout, so the body must give up with the request.)
type stalledBody struct{ ctx context.Context }

func (b stalledBody) Read([]byte) (int, error) {
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

// A declared length over the limit is refused from the headers alone: the
// body never comes, so an endpoint that waited for it would let the request
// time out instead of answering 413.
func TestDeclaredLengthOverLimitAnswers413WithoutReadingBody(t *testing.T) {
	t.Parallel()
	url := bareEndpoint(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, stalledBody{ctx})
	require.NoError(t, err)
	req.ContentLength = 2_000_000
	req.Header.Set("Authorization", "test-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the answer must not wait for the body")
	defer resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Equal(t, "too_large", errorCode(t, resp))
}
