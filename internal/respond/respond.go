// Package respond writes payoutd's HTTP error answers in the one shape of
// SPEC.md, {"error":{"code":"...","message":"..."}}, with a fixed public
// message: an internal error's text never reaches a client.
package respond

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error for programs (Code) and people (Message).
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// VerificationLink and VerificationStatus accompany verification_required.
	VerificationLink   string `json:"verification_link,omitempty"`
	VerificationStatus string `json:"verification_status,omitempty"`
}

// Error aborts the request with status and the error body.
func Error(c *gin.Context, status int, code, message string) {
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{Code: code, Message: message}})
}

// Internal aborts with 500 and the fixed message for a failure the client
// can do nothing about; the caller logs the cause.
func Internal(c *gin.Context) {
	Error(c, http.StatusInternalServerError, "internal", "internal error")
}

// FieldErrors aborts with 422 and one message per invalid field.
func FieldErrors(c *gin.Context, fields map[string]string) {
	c.AbortWithStatusJSON(422, ErrorBody{Error: ErrorDetail{Code: "invalid_request", Message: "the request has invalid fields", Fields: fields}})
}
