package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// embedded holds the static files and the page templates. The vendored
// Chart.js and its licence are described in assets/README.md.
//
//go:embed assets/*.css assets/*.js assets/*.svg templates/*.html
var embedded embed.FS

type asset struct {
	body        []byte
	contentType string
	version     string // a prefix of the content's SHA-256
}

// assetSet is the embedded static files, keyed by name, with a content
// version each: pages link /assets/NAME?v=VERSION, which may be cached for
// good, because a new build with other content links another version.
type assetSet struct {
	files map[string]asset
}

func mustLoadAssets() *assetSet {
	set := &assetSet{files: map[string]asset{}}
	entries, err := fs.ReadDir(embedded, "assets")
	if err != nil {
		panic("dashboard: read embedded assets: " + err.Error())
	}
	for _, e := range entries {
		body, err := embedded.ReadFile("assets/" + e.Name())
		if err != nil {
			panic("dashboard: read embedded asset: " + err.Error())
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		set.files[e.Name()] = asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:8])}
	}
	return set
}

// url is the versioned address of an embedded asset, for templates.
func (s *assetSet) url(name string) string {
	a, ok := s.files[name]
	if !ok {
		panic("dashboard: no embedded asset " + name)
	}
	return "/assets/" + name + "?v=" + a.version
}

func (h *handler) asset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("name"), "/")
	a, ok := h.assets.files[name]
	if !ok {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return
	}
	hd := c.Writer.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("ETag", `"`+a.version+`"`)
	if c.Query("v") == a.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(a.body))
}
