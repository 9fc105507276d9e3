package metrics

import (
	"io"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/require"
)

func TestBuildInfoIsServed(t *testing.T) {
	m := New()
	m.RegisterBuildInfo(BuildInfo{Version: "v1.2.3", Commit: "0123abcd0123abcd0123abcd0123abcd0123abcd", Date: "2026-12-07T04:00:00Z", GoVersion: "go1.26.8"})
	srv := httptest.NewServer(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(body), "# TYPE payoutd_build_info gauge\n"+
		`payoutd_build_info{commit="0123abcd0123abcd0123abcd0123abcd0123abcd",date="2026-12-07T04:00:00Z",goversion="go1.26.8",version="v1.2.3"} 1`+"\n")
}
