package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

const (
	iterations = 10000
	keyLen     = 32 // AES-256 key, and HMAC-SHA256 key
	ivLen      = aes.BlockSize
)

// ErrHMAC means the HMAC-SHA256 of the ciphertext does not match the one in the envelope:
// the password is wrong, or the text was altered. Nothing was decrypted.
var ErrHMAC = errors.New("HMAC-SHA256 of the ciphertext does not match")

// keys derives the AES key, the HMAC key and the CTR counter block from a password.
func keys(password, salt []byte) (aesKey, hmacKey, iv []byte, err error) {
	k, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 2*keyLen+ivLen)
	if err != nil {
		return nil, nil, nil, err
	}
	return k[:keyLen], k[keyLen : 2*keyLen], k[2*keyLen:], nil
}

// Open checks env's HMAC with password and, only if it matches, decrypts and unpads the
// plaintext. A mismatch is ErrHMAC.
func (env *Envelope) Open(password []byte) ([]byte, error) {
	aesKey, hmacKey, iv, err := keys(password, env.Salt)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write(env.Ciphertext)
	if !hmac.Equal(mac.Sum(nil), env.HMAC) {
		return nil, ErrHMAC
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(env.Ciphertext))
	cipher.NewCTR(block, iv).XORKeyStream(plain, env.Ciphertext)
	return unpad(plain)
}

// unpad removes PKCS#7 padding. The HMAC has matched by then, so bad padding means the
// text was written by a faulty encryptor, not that the password is wrong.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("decrypted data is empty, PKCS#7 padding missing")
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, fmt.Errorf("decrypted data has invalid PKCS#7 padding (last byte %d)", n)
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, fmt.Errorf("decrypted data has invalid PKCS#7 padding")
		}
	}
	return b[:len(b)-n], nil
}

// Seal encrypts plaintext with password into a new envelope: format 1.1 when label is ""
// or "default", as ansible-vault writes it, else 1.2 carrying the label.
func Seal(plaintext, password []byte, label string) (*Envelope, error) {
	env := &Envelope{Version: "1.1", Cipher: "AES256", Salt: make([]byte, saltLen)}
	if label != "" && label != DefaultLabel {
		env.Version, env.Label = "1.2", label
	}
	if _, err := rand.Read(env.Salt); err != nil {
		return nil, err
	}
	aesKey, hmacKey, iv, err := keys(password, env.Salt)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := make([]byte, len(plaintext)+n)
	copy(padded, plaintext)
	for i := len(plaintext); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, err
	}
	env.Ciphertext = make([]byte, len(padded))
	cipher.NewCTR(block, iv).XORKeyStream(env.Ciphertext, padded)
	mac := hmac.New(sha256.New, hmacKey)
	mac.Write(env.Ciphertext)
	env.HMAC = mac.Sum(nil)
	return env, nil
}
