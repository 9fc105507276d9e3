// Package principal carries who made a request, the name of the API token
// or dashboard login that authenticated it, from the authentication
// middleware to the handlers that record it (acknowledgements, snoozes).
package principal

import "github.com/gin-gonic/gin"

// key is the gin context key; no other package reads it directly.
const key = "payoutd.principal"

// Set records that name authenticated this request.
func Set(c *gin.Context, name string) { c.Set(key, name) }

// Name is who authenticated this request; "" before authentication.
func Name(c *gin.Context) string {
	v, _ := c.Get(key)
	s, _ := v.(string)
	return s
}
