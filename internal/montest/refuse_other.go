//go:build !unix

package montest

import (
	"errors"
	"io"
)

// refusingTCP needs a socket bound without listening, which the tests
// only do on Unix.
func refusingTCP() (int, io.Closer, error) {
	return 0, nil, errors.New("a bound, never listening TCP socket is only made on Unix")
}
