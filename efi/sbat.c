/*
 * The stub's SBAT metadata (Secure Boot Advanced Targeting, shim's
 * SBAT.md): shim 15.3 and later refuse a second stage without a .sbat
 * section, and revoke by these generation numbers instead of by hash.
 * Raise "solo,N" when a security fix in the stub must make every older
 * signed stub unbootable through shim.
 *
 * CSV, one component per line, no NUL (the array is exactly the text).
 */
#define SBAT_CSV                                                                                   \
	"sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"            \
	"solo,1,Solo,solo,0.1,https://solo.invalid/\n"

__attribute__((section(".sbat"), used)) static const char sbat[sizeof(SBAT_CSV) - 1] = SBAT_CSV;
