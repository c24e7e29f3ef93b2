// Package archtest holds the test of the module's import arrows: which
// package may use which. It has no code of its own.
package archtest
