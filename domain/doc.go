// Package domain holds what dotm's data means, apart from where it is
// kept: a fleet's architecture as archived and how two of them differ,
// how bad a monitoring state is, the settings catalogue and the
// configuration it gives, and how nodes are named and reached. Package
// store keeps these under its keys; everything above reads them.
package domain
