using System.Runtime.InteropServices;

namespace MLNetRetrieval.Images.Decoding;

/// <summary>
/// Reports whether a path names a regular file, following symbolic links, without opening it. Opening a FIFO
/// for reading blocks until a writer appears, so the type must be known before <see cref="FileStream"/> is used.
/// </summary>
/// <remarks>
/// .NET 10 has no public API for the Unix file type, so on Unix this calls <c>SystemNative_Stat</c> in
/// <c>libSystem.Native</c>, the shim that ships with every .NET runtime and that <see cref="FileInfo"/> itself uses.
/// Its <c>FileStatus</c> output starts with two 32-bit fields, flags and mode, and its mode uses the
/// platform-independent S_IFMT values below.
/// </remarks>
internal static partial class FileTypeProbe
{
    private const int TypeMask = 0xF000;
    private const int Fifo = 0x1000;
    private const int CharacterDevice = 0x2000;
    private const int Directory = 0x4000;
    private const int BlockDevice = 0x6000;
    private const int RegularFile = 0x8000;
    private const int Socket = 0xC000;

    // NOTE: The shim's FileStatus is about 120 bytes in .NET 10; the buffer is larger so a grown struct stays safe.
    private const int StatusBufferBytes = 512;

    /// <summary>
    /// Describes what the final target of <paramref name="path"/> is when it is not a regular file, for example
    /// "a FIFO (named pipe)". Returns null for a regular file, a missing path, on Windows, and when the type cannot
    /// be read. In those cases the caller's ordinary checks handle the path.
    /// </summary>
    public static string? DescribeIfNotRegularFile(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        int mode;
        try
        {
            if (!TryStatMode(path, out mode))
            {
                return null;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        return (mode & TypeMask) switch
        {
            RegularFile => null,
            Directory => "a directory",
            Fifo => "a FIFO (named pipe)",
            CharacterDevice => "a character device",
            BlockDevice => "a block device",
            Socket => "a socket",
            int type => $"a special file (type 0x{type:X4})",
        };
    }

    private static unsafe bool TryStatMode(string path, out int mode)
    {
        byte* status = stackalloc byte[StatusBufferBytes];
        if (Stat(path, status) != 0)
        {
            mode = 0;
            return false;
        }

        mode = *(int*)(status + sizeof(int));
        return true;
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Stat(string path, byte* status);
}
