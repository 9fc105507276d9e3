package respond_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/respond"
)

// A download that takes longer than the server's WriteTimeout finishes:
// each write moves the deadline, as long as the client keeps reading.
func TestDownloadOutlivesTheServersWriteTimeout(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	const rows = 6
	r.GET("/report.csv", func(c *gin.Context) {
		out := respond.NewDownload(c, "text/csv", "report.csv")
		for i := range rows {
			_, err := fmt.Fprintf(out, "row,%d\n", i)
			require.NoError(t, err)
			c.Writer.Flush()
			time.Sleep(60 * time.Millisecond) // 6 × 60 ms: well past the 150 ms timeout
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: r, WriteTimeout: 150 * time.Millisecond}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	resp, err := http.Get("http://" + ln.Addr().String() + "/report.csv")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the download was cut by the server's write timeout")
	require.Equal(t, rows, strings.Count(string(body), "\n"))
	require.Equal(t, `attachment; filename="report.csv"`, resp.Header.Get("Content-Disposition"))
}
