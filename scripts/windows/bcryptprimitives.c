/* A stand-in for bcryptprimitives.dll, which Wine 8 lacks and Rust's standard library
 * imports for ProcessPrng (its source of random numbers on Windows 10 and later): the same
 * function, over RtlGenRandom (SystemFunction036 in advapi32). For the Windows tests under
 * Wine only (scripts/test-windows); a real Windows has the DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
