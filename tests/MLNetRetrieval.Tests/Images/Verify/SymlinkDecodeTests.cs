using System.Diagnostics;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Tests.Images.Verify;

/// <summary>
/// Image paths that are symbolic links to special files. The decoder checks the file size before reading,
/// and a link must be checked by its target, not by the link's own length.
/// </summary>
public sealed class SymlinkDecodeTests
{
    [Fact]
    public async Task LinkToFifoFailsWithoutBlocking()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnr-verify-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string fifo = Path.Combine(folder, "pipe");
        using (Process mkfifo = Process.Start("mkfifo", fifo))
            mkfifo.WaitForExit();
        string link = Path.Combine(folder, "image.png");
        File.CreateSymbolicLink(link, fifo);

        var decode = Task.Run(() => ImageDecoder.TryDecode(link, null, out DecodedImage? _, out ImageFailure? _));
        Task first = await Task.WhenAny(decode, Task.Delay(TimeSpan.FromSeconds(20)));
        bool finished = first == decode;
        if (!finished)
        {
            // Opening and closing the write end gives the blocked reader an end of file, so no thread stays blocked.
            using (new FileStream(fifo, FileMode.Open, FileAccess.Write))
            {
            }

            await Task.WhenAny(decode, Task.Delay(TimeSpan.FromSeconds(20)));
        }

        Assert.True(finished);
        Assert.False(await decode);
    }
}
