package simkernel

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// BuildModule returns a minimal relocatable ELF64 object (what a .ko is) whose .modinfo
// section holds entries ("key=value"), laid out as the kernel's build lays them out. It
// is enough for debug/elf, modinfo-style readers and the simulated insmod; test helpers
// use it instead of compiling a kernel module.
func BuildModule(entries ...string) []byte {
	modinfo := []byte(strings.Join(entries, "\x00") + "\x00")
	shstr := []byte("\x00.modinfo\x00.shstrtab\x00")
	const ehdrSize, shdrSize = 64, 64
	modOff := uint64(ehdrSize)
	strOff := modOff + uint64(len(modinfo))
	shOff := (strOff + uint64(len(shstr)) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [16]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}
	b.Write(ident[:])
	binary.Write(&b, le, uint16(1))  // e_type ET_REL
	binary.Write(&b, le, uint16(62)) // e_machine x86-64
	binary.Write(&b, le, uint32(1))  // e_version
	binary.Write(&b, le, uint64(0))  // e_entry
	binary.Write(&b, le, uint64(0))  // e_phoff
	binary.Write(&b, le, shOff)      // e_shoff
	binary.Write(&b, le, uint32(0))  // e_flags
	binary.Write(&b, le, uint16(ehdrSize))
	binary.Write(&b, le, uint16(0)) // e_phentsize
	binary.Write(&b, le, uint16(0)) // e_phnum
	binary.Write(&b, le, uint16(shdrSize))
	binary.Write(&b, le, uint16(3)) // e_shnum
	binary.Write(&b, le, uint16(2)) // e_shstrndx
	b.Write(modinfo)
	b.Write(shstr)
	for uint64(b.Len()) < shOff {
		b.WriteByte(0)
	}
	section := func(name, typ uint32, flags, off, size uint64) {
		binary.Write(&b, le, name)
		binary.Write(&b, le, typ)
		binary.Write(&b, le, flags)
		binary.Write(&b, le, uint64(0)) // addr
		binary.Write(&b, le, off)
		binary.Write(&b, le, size)
		binary.Write(&b, le, uint32(0)) // link
		binary.Write(&b, le, uint32(0)) // info
		binary.Write(&b, le, uint64(1)) // addralign
		binary.Write(&b, le, uint64(0)) // entsize
	}
	section(0, 0, 0, 0, 0)
	section(1, 1, 2, modOff, uint64(len(modinfo))) // .modinfo PROGBITS ALLOC
	section(10, 3, 0, strOff, uint64(len(shstr)))  // .shstrtab STRTAB
	return b.Bytes()
}

// Sign appends a fake module signature trailer, as sign-file does, so the module reads as
// signed.
func Sign(ko []byte) []byte {
	return append(append(append([]byte{}, ko...), make([]byte, 40)...), "~Module signature appended~\n"...)
}
