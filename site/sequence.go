package site

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Publish is the whole publishing sequence for the site in out: it takes
// the lock on out (waiting up to wait for another publisher), starts a
// temporary tree beside it, writes the assets, lets build write the
// pages, and swaps the tree in. If anything fails the tree is dropped and
// the published site stays as it was.
func Publish(ctx context.Context, out string, wait time.Duration, build func(*Tree) error) error {
	unlock, err := Lock(ctx, out, wait)
	if err != nil {
		return err
	}
	defer unlock()
	tree, err := New(out)
	if err != nil {
		return err
	}
	err = WriteAssets(tree)
	if err == nil {
		err = build(tree)
	}
	if err != nil {
		tree.Abort()
		return errors.Join(err, fmt.Errorf("the site in %s was left as it was", out))
	}
	return tree.Publish()
}
