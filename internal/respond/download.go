package respond

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Download streams a file answer: the 200 and its headers go out with the
// first byte written, so that a failure before it can still be an error
// answer, and a failure after it is cut with Abort, never a short file
// that looks whole. The API's and the dashboard's report downloads use it.
type Download struct {
	c           *gin.Context
	contentType string
	filename    string
	started     bool
	n           int64
}

// NewDownload answers c with a file of contentType named filename (the
// Content-Disposition attachment's name).
func NewDownload(c *gin.Context, contentType, filename string) *Download {
	return &Download{c: c, contentType: contentType, filename: filename}
}

// Start writes the status and headers; Write does it on its first call.
func (d *Download) Start() {
	d.started = true
	d.c.Header("Content-Type", d.contentType)
	d.c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, d.filename))
	d.c.Status(http.StatusOK)
}

// Started is whether the 200 is out: after it, only Abort can fail the
// answer.
func (d *Download) Started() bool { return d.started }

// Bytes is how much of the body was written.
func (d *Download) Bytes() int64 { return d.n }

// WriteWindow is how long one write of a download may take: each write
// moves the connection's write deadline this far ahead, so that a large
// report outlives the server's WriteTimeout while a client that stops
// reading is still cut off.
const WriteWindow = 30 * time.Second

func (d *Download) Write(b []byte) (int, error) {
	if !d.started {
		d.Start()
	}
	// A network deadline, not a business time: the wall clock is right here.
	_ = http.NewResponseController(d.c.Writer).SetWriteDeadline(time.Now().Add(WriteWindow))
	n, err := d.c.Writer.Write(b)
	d.n += int64(n)
	return n, err
}

// Abort drops the connection under a response already begun: the client's
// read of the chunked body ends without its last chunk (curl exits 18, a
// browser marks the download failed). gin's own Hijack refuses once body
// bytes are out, so the connection is taken from the server's writer
// beneath it. Where that cannot be done (HTTP/2, which payoutd does not
// serve), the handler aborts the way net/http offers.
func Abort(c *gin.Context) {
	c.Writer.Flush() // what was written before the failure, whole rows, then the cut
	var w http.ResponseWriter = c.Writer
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = u.Unwrap()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
