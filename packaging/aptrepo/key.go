package aptrepo

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key is an OpenPGP key that signs a repository.
type Key struct {
	entity *openpgp.Entity
	now    func() time.Time // signature time; nil means time.Now
}

// signConfig makes signatures every apt since 1.6 verifies: SHA-512 over an RSA key
// (apt warns about SHA-1 and, from 2.x, refuses it).
func (k *Key) signConfig() *packet.Config {
	return &packet.Config{DefaultHash: crypto.SHA512, Time: k.now}
}

// keyBits is the size of the RSA keys GenerateKey makes: what gpg makes by default, and
// above the 2048 bits that current apt's policy (sqv on Debian 13) asks for.
const keyBits = 3072

// GenerateKey makes a new RSA key with one user id, for trying a repository out. name and
// email must not contain "()<>".
func GenerateKey(name, email string) (*Key, error) {
	e, err := openpgp.NewEntity(name, "", email, &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA, RSABits: keyBits, DefaultHash: crypto.SHA512,
	})
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &Key{entity: e}, nil
}

// ReadKey reads an armored or binary OpenPGP private key (the first key of r). A key
// protected by a passphrase needs it; one without ignores it.
func ReadKey(r io.Reader, passphrase string) (*Key, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	var list openpgp.EntityList
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("read key: no key")
	}
	e := list[0]
	if e.PrivateKey == nil {
		return nil, fmt.Errorf("read key %X: a public key only; signing needs the private key", e.PrimaryKey.Fingerprint)
	}
	if e.PrivateKey.Encrypted {
		if passphrase == "" {
			return nil, fmt.Errorf("read key %X: protected by a passphrase, and none given", e.PrimaryKey.Fingerprint)
		}
		if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
			return nil, fmt.Errorf("read key %X: %w", e.PrimaryKey.Fingerprint, err)
		}
	}
	if !e.PrimaryKey.CanSign() {
		return nil, fmt.Errorf("read key %X: its primary key cannot sign", e.PrimaryKey.Fingerprint)
	}
	return &Key{entity: e}, nil
}

// LoadKey reads the private key in the file at path (armored or binary).
func LoadKey(path, passphrase string) (*Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	defer f.Close()
	k, err := ReadKey(f, passphrase)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	return k, nil
}

// GnupgKey exports the secret key id (a fingerprint, key id or user id; "" means the only
// secret key there) from the GnuPG home directory home with gpg, and reads it.
func GnupgKey(ctx context.Context, home, id, passphrase string) (*Key, error) {
	args := []string{"--homedir", home, "--batch", "--armor", "--export-secret-keys"}
	if passphrase != "" {
		args = append(args, "--pinentry-mode", "loopback", "--passphrase-fd", "0")
	}
	if id == "" {
		list := exec.CommandContext(ctx, "gpg", "--homedir", home, "--batch", "--with-colons", "--list-secret-keys")
		out, err := list.Output()
		if err != nil {
			return nil, fmt.Errorf("gnupg key: gpg --list-secret-keys in %s: %w%s", home, err, stderrOf(err))
		}
		var fprs []string
		sec := false
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Split(line, ":")
			switch {
			case f[0] == "sec":
				sec = true
			case f[0] == "fpr" && sec && len(f) > 9:
				fprs = append(fprs, f[9])
				sec = false
			}
		}
		if len(fprs) != 1 {
			return nil, fmt.Errorf("gnupg key: %s holds %d secret keys (%s): name one", home, len(fprs), strings.Join(fprs, ", "))
		}
		id = fprs[0]
	}
	cmd := exec.CommandContext(ctx, "gpg", append(args, id)...)
	cmd.Stdin = strings.NewReader(passphrase + "\n")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("gnupg key: gpg --export-secret-keys %s in %s: %w%s", id, home, err, stderrOf(err))
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, fmt.Errorf("gnupg key: no secret key %q in %s", id, home)
	}
	k, err := ReadKey(bytes.NewReader(out), passphrase)
	if err != nil {
		return nil, fmt.Errorf("gnupg key %s in %s: %w", id, home, err)
	}
	return k, nil
}

// KeyFromEnv loads the signing key the environment names, as getenv reads it:
// REPO_KEY, a file holding the private key (armored or binary), else the GnuPG home
// GNUPGHOME with REPO_KEY_ID choosing the key (needed when it holds more than one).
// REPO_KEY_PASSPHRASE unlocks a protected key.
func KeyFromEnv(ctx context.Context, getenv func(string) string) (*Key, error) {
	pass := getenv("REPO_KEY_PASSPHRASE")
	if p := getenv("REPO_KEY"); p != "" {
		return LoadKey(p, pass)
	}
	if home := getenv("GNUPGHOME"); home != "" {
		return GnupgKey(ctx, home, getenv("REPO_KEY_ID"), pass)
	}
	return nil, errors.New("no signing key: set REPO_KEY to an armored private key file, or GNUPGHOME (and REPO_KEY_ID) " +
		"to a GnuPG home; `go tool mage repo:key` makes a test key")
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

// Fingerprint is the key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string { return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint) }

// PublicKeyring returns the public key in the binary form apt's signed-by= and gpgv
// --keyring read (what `gpg --export` writes).
func (k *Key) PublicKeyring() ([]byte, error) {
	var b bytes.Buffer
	if err := k.entity.Serialize(&b); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return b.Bytes(), nil
}

// ArmoredPublic returns the public key armored (an .asc file).
func (k *Key) ArmoredPublic() ([]byte, error) {
	pub, err := k.PublicKeyring()
	if err != nil {
		return nil, err
	}
	return armorBlock(openpgp.PublicKeyType, pub)
}

// ArmoredPrivate returns the private key armored, unprotected: what LoadKey reads.
func (k *Key) ArmoredPrivate() ([]byte, error) {
	var b bytes.Buffer
	if err := k.entity.SerializePrivate(&b, k.signConfig()); err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return armorBlock(openpgp.PrivateKeyType, b.Bytes())
}

func armorBlock(typ string, data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, typ, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// ClearSign returns data clearsigned: an InRelease file.
func (k *Key) ClearSign(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, k.entity.PrivateKey, k.signConfig())
	if err != nil {
		return nil, fmt.Errorf("clearsign: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("clearsign: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("clearsign: %w", err)
	}
	out, err := withChecksum(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("clearsign: %w", err)
	}
	return append(out, '\n'), nil
}

// sigBegin starts the armored signature of a clearsigned message.
const sigBegin = "-----BEGIN PGP SIGNATURE-----"

// withChecksum re-armors the signature block of a clearsigned message with the CRC-24 line
// (=XXXX) that go-crypto's clearsign leaves out (RFC 9580 made it optional). GnuPG 2.2.40
// (Debian 12's gpgv, which apt runs) fails to read some armored blocks without it ("invalid
// radix64 character"), depending on the length of the last line: about one signature in six.
func withChecksum(signed []byte) ([]byte, error) {
	i := bytes.Index(signed, []byte(sigBegin))
	if i < 0 {
		return nil, errors.New("no signature block")
	}
	block, err := armor.Decode(bytes.NewReader(signed[i:]))
	if err != nil {
		return nil, err
	}
	sig, err := io.ReadAll(block.Body)
	if err != nil {
		return nil, err
	}
	re, err := armorBlock(block.Type, sig) // armor.Encode: with the checksum
	if err != nil {
		return nil, err
	}
	return append(signed[:i:i], bytes.TrimRight(re, "\n")...), nil
}

// DetachSign returns an armored detached signature of data: a Release.gpg file.
func (k *Key) DetachSign(data []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&b, k.entity, bytes.NewReader(data), k.signConfig()); err != nil {
		return nil, fmt.Errorf("detach sign: %w", err)
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}
