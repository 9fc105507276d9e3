package coinflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync/atomic"
	"time"
)

// maxElement bounds one element of a streamed array: the bytes read ahead
// of the element being decoded never exceed it, so neither does the
// decoder's buffer. A withdrawer is about a kilobyte.
const maxElement = 1 << 20

var errElementTooLarge = fmt.Errorf("%w: an array element over %d bytes", ErrMalformedResponse, maxElement)

// streamArray sends r, whose 2xx answer is a bare JSON array, and yields
// its elements decoded one at a time from the open body: memory is one
// element, not the array. A JSON null is an empty array.
//
// The request is retried under r's retry policy until the first element
// is decoded (or the array is seen to be empty); after that an error is
// yielded once, with a nil element, and ends the sequence: what was
// yielded cannot be taken back. Timeout bounds each wait for data (until
// the answer's headers, then each element), not the whole stream, and the
// time the caller spends between elements is not counted.
func streamArray[T any](ctx context.Context, c *Client, r request) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		target, body, err := c.prepare(r)
		if err != nil {
			yield(nil, err)
			return
		}
		var s *arrayStream
		var first *T
		attempts := 0
		err = c.retrying(ctx, r, func() error {
			var err error
			attempts++
			s, first, err = openArray[T](ctx, c, r, target, body)
			return err
		})
		if err != nil {
			yield(nil, err)
			return
		}
		if first == nil {
			return // an empty array: nothing is open
		}
		defer s.close()
		for v := first; ; {
			if !yield(v, nil) {
				return
			}
			v = new(T)
			more, err := s.next(v)
			if err != nil {
				if apiErr, ok := errors.AsType[*APIError](err); ok {
					apiErr.Attempts = attempts // the attempt that opened the stream
				}
				yield(nil, err)
				return
			}
			if !more {
				return
			}
		}
	}
}

// arrayStream is an open answer being read element by element.
type arrayStream struct {
	ctx     context.Context    // the caller's
	cancel  context.CancelFunc // ends the attempt's context
	idle    *time.Timer        // cancels when no data came within timeout
	fired   atomic.Bool        // idle has cancelled
	timeout time.Duration
	op      string
	status  int
	body    io.ReadCloser
	lim     *elementLimit
	dec     *json.Decoder
}

// openArray sends once and reads up to the first element, which it
// returns with the open stream. When the array is empty, or on error,
// nothing stays open and the stream is nil.
func openArray[T any](ctx context.Context, c *Client, r request, target string, body []byte) (*arrayStream, *T, error) {
	actx, cancel := context.WithCancel(ctx)
	s := &arrayStream{ctx: ctx, cancel: cancel, timeout: c.cfg.Timeout, op: r.op}
	s.idle = time.AfterFunc(s.timeout, func() {
		s.fired.Store(true)
		cancel()
	})
	resp, err := c.send(ctx, actx, r, target, body)
	if err != nil {
		s.idle.Stop()
		cancel()
		if s.timedOut() {
			return nil, nil, s.timeoutErr()
		}
		return nil, nil, err
	}
	s.status, s.body = resp.StatusCode, resp.Body
	s.lim = &elementLimit{r: resp.Body, limit: maxElement}
	s.dec = json.NewDecoder(s.lim)
	first, err := s.start()
	if err != nil {
		s.close()
		return nil, nil, err
	}
	if first {
		v := new(T)
		more, err := s.next(v)
		if err != nil {
			s.close()
			return nil, nil, err
		}
		if more {
			return s, v, nil
		}
	}
	s.close()
	return nil, nil, nil
}

// start reads the opening of the array: true when elements may follow,
// false for null (then the whole answer has been checked).
func (s *arrayStream) start() (bool, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return false, s.fail(err)
	}
	switch tok {
	case json.Delim('['):
		s.lim.allow(s.dec.InputOffset())
		return true, nil
	case nil:
		return false, s.end()
	}
	return false, s.fail(fmt.Errorf("%w: want an array", ErrMalformedResponse))
}

// next decodes the next element into v; false at the end of the array,
// after checking that nothing follows it.
func (s *arrayStream) next(v any) (bool, error) {
	s.idle.Reset(s.timeout)
	defer s.idle.Stop()
	if !s.dec.More() {
		tok, err := s.dec.Token()
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the body ended inside the array
		}
		if err != nil {
			return false, s.fail(err)
		}
		if tok != json.Delim(']') {
			return false, s.fail(fmt.Errorf("%w: want the end of the array", ErrMalformedResponse))
		}
		return false, s.end()
	}
	if err := s.dec.Decode(v); err != nil {
		return false, s.fail(err)
	}
	s.lim.allow(s.dec.InputOffset())
	return true, nil
}

// end checks that only white space follows the value read.
func (s *arrayStream) end() error {
	if _, err := s.dec.Token(); err != io.EOF {
		if err == nil {
			err = fmt.Errorf("%w: data after the array", ErrMalformedResponse)
		}
		return s.fail(err)
	}
	return nil
}

func (s *arrayStream) close() {
	s.idle.Stop()
	s.cancel()
	s.body.Close()
}

func (s *arrayStream) timedOut() bool { return s.ctx.Err() == nil && s.fired.Load() }

func (s *arrayStream) timeoutErr() *APIError {
	return &APIError{Op: s.op, Err: fmt.Errorf("no data within %s: %w", s.timeout, context.DeadlineExceeded)}
}

// fail maps an error met while reading the answer like attempt does: the
// caller's context error as is; a read error or the idle timeout as status
// 0 (retryable, the outcome unknown); a body that is not the JSON expected
// as ErrMalformedResponse, status 0 as well, except an element over
// maxElement, which keeps the answer's status: resending will not shrink
// it.
func (s *arrayStream) fail(err error) error {
	switch {
	case s.ctx.Err() != nil:
		return s.ctx.Err()
	case s.timedOut():
		return s.timeoutErr()
	case errors.Is(err, errElementTooLarge):
		return &APIError{Op: s.op, StatusCode: s.status, Err: err}
	case errors.Is(err, ErrMalformedResponse):
		return &APIError{Op: s.op, Err: err}
	case s.lim.err != nil && errors.Is(err, s.lim.err):
		return &APIError{Op: s.op, Err: fmt.Errorf("read response: %w", scrub(err))}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &APIError{Op: s.op, Err: fmt.Errorf("read response: %w", err)}
	}
	return &APIError{Op: s.op, Err: fmt.Errorf("%w: %v", ErrMalformedResponse, err)}
}

// elementLimit delivers at most maxElement bytes past the decoder's
// position: the decoder cannot buffer more than one element's worth, and
// an element larger than that fails with errElementTooLarge.
type elementLimit struct {
	r     io.Reader
	pos   int64 // bytes delivered
	limit int64 // delivered bytes may not pass it
	err   error // the last error of r other than EOF
}

// allow moves the limit to maxElement bytes past offset, the decoder's
// position after an element.
func (l *elementLimit) allow(offset int64) { l.limit = offset + maxElement }

func (l *elementLimit) Read(p []byte) (int, error) {
	if l.pos >= l.limit {
		return 0, errElementTooLarge
	}
	if room := l.limit - l.pos; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.pos += int64(n)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}
