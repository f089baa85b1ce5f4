namespace Platform.TestSupport;

/// <summary>
/// A 1 MiB raw disk whose boot sector prints a line on the first serial port and halts: a real guest for the qemu
/// driver's tests, whose serial console (the workload's stdout) shows that the VM ran its code.
/// </summary>
public static class BootImage
{
    public const string Greeting = "booted";

    public static void Write(string path)
    {
        // Real-mode code loaded at 0x7c00: ds = 0; si = the message; out each byte to COM1 (0x3f8) until the NUL; hlt.
        byte[] code =
        [
            0x31, 0xC0, 0x8E, 0xD8, 0xFC,   // xor ax,ax; mov ds,ax; cld
            0xBE, 0x16, 0x7C,               // mov si, 0x7c16 (the message, right after this code)
            0xBA, 0xF8, 0x03,               // mov dx, 0x3f8
            0xAC, 0x84, 0xC0, 0x74, 0x03,   // next: lodsb; test al,al; jz done
            0xEE, 0xEB, 0xF8,               // out dx,al; jmp next
            0xF4, 0xEB, 0xFD,               // done: hlt; jmp done
        ];
        var disk = new byte[1 << 20];
        code.CopyTo(disk, 0);
        System.Text.Encoding.ASCII.GetBytes(Greeting + "\r\n\0").CopyTo(disk, code.Length);
        (disk[510], disk[511]) = (0x55, 0xAA);
        File.WriteAllBytes(path, disk);
    }
}
