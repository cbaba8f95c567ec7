package micropub

import (
	"context"
	"io"
	"net/url"

	"github.com/micropubd/micropubd"
)

// Actions a Micropub request can ask for.
const (
	ActionCreate   = "create"
	ActionUpdate   = "update"
	ActionDelete   = "delete"
	ActionUndelete = "undelete"
)

// Request is a Micropub request whatever its encoding: form, multipart or JSON.
type Request struct {
	Action string
	// URL is the post an update, delete or undelete acts on.
	URL string
	// Type is the microformats2 type of a created object, e.g. ["h-entry"].
	Type       []string
	Properties micropubd.Properties
	// Commands are the mp-* values, kept apart from the object's properties.
	Commands map[string][]any
	// Update operations.
	Replace      micropubd.Properties
	Add          micropubd.Properties
	DeleteProps  []string
	DeleteValues micropubd.Properties
	// Files are the file parts of a multipart create, in request order.
	Files []File
	// AccessToken is the token sent in the body; it is never a property.
	AccessToken string
	// CSRF is the csrf field of a form posted by the owner's pages; it is never a property.
	CSRF string
	// Form holds a form's text fields as sent (credentials left out), to show the form again.
	Form url.Values
}

// File is an uploaded file part, received but not yet stored, that becomes a value of Property.
type File struct {
	Property string
	Filename string // the client's name for it, never used as a path
	Upload   Upload
}

// Upload is a received file waiting in a temp file until it is committed or discarded.
type Upload interface {
	// URL is the absolute URL the file will be served at: its name, from its content, is known
	// before it is stored.
	URL() string
	// Commit moves the file into the media folder and records it.
	Commit(ctx context.Context) error
	// Discard removes the temp file of an upload that will not be stored; after Commit it does
	// nothing.
	Discard()
}

// Uploads receives and stores the files of multipart creates, and keeps the alt text posts give
// them: the media endpoint's storage, wired in by cmd/micropubd.
type Uploads interface {
	// Receive checks a file and writes it to a temp file; nothing is stored until Commit.
	Receive(r io.Reader) (Upload, error)
	// NameOf returns the file name in a URL of a stored file, or "" if it is not one.
	NameOf(rawURL string) string
	// SetMediaAlt records the alt text of the stored file name.
	SetMediaAlt(ctx context.Context, name, alt string) error
}

// Command returns the first string value of the mp-* command name, or "".
func (r *Request) Command(name string) string {
	return micropubd.Properties(r.Commands).First(name)
}
