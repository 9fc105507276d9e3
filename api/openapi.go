package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

// openapiYAML is the OpenAPI document of payoutd's HTTP interface, kept as
// YAML so that people read and review it; it is served as JSON.
//
//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI returns payoutd's OpenAPI document (api/openapi.yaml) as JSON,
// the bytes GET /api/v1/openapi.json serves. Tests load it to check every
// answer of the API against it.
func OpenAPI() ([]byte, error) {
	// yaml.v3 decodes a mapping with string keys into map[string]any, which
	// encoding/json can write; the document quotes its status codes so that
	// every key is a string. Anchors and merge keys are resolved here.
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("decode openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi document as json: %w", err)
	}
	return b, nil
}

// serveOpenAPI answers GET /api/v1/openapi.json with the document. It needs
// no token: the document describes the interface and holds no data, and a
// client generator must be able to read it before it has a token.
func serveOpenAPI() gin.HandlerFunc {
	doc, err := OpenAPI()
	if err != nil {
		panic(err) // the embedded document is broken: a build that cannot pass its tests
	}
	return func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
	}
}
