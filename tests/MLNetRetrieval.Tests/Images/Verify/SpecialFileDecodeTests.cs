using System.Diagnostics;
using MLNetRetrieval.Images.Decoding;

namespace MLNetRetrieval.Tests.Images.Verify;

/// <summary>
/// Image paths that name device files or FIFOs, directly or through a symbolic link. Each must fail as
/// <see cref="ImageFailureKind.Unreadable"/> with a reason stating that it is not a regular file, without reading it.
/// </summary>
public sealed class SpecialFileDecodeTests
{
    [Fact]
    public void LinkToDevZeroIsRejected()
    {
        string link = Path.Combine(CreateFolder(), "zero.png");
        File.CreateSymbolicLink(link, "/dev/zero");

        bool ok = ImageDecoder.TryDecode(link, null, out DecodedImage? _, out ImageFailure? failure);

        Assert.False(ok);
        Assert.Equal(ImageFailureKind.Unreadable, failure!.Kind);
        Assert.Contains("character device", failure.Reason);
    }

    [Fact]
    public void FifoInFolderIsNotRegular()
    {
        string fifo = Path.Combine(CreateFolder(), "pipe.png");
        using (Process mkfifo = Process.Start("mkfifo", fifo))
            mkfifo.WaitForExit();

        bool ok = ImageDecoder.TryDecode(fifo, null, out DecodedImage? _, out ImageFailure? failure);

        Assert.False(ok);
        Assert.Equal(ImageFailureKind.Unreadable, failure!.Kind);
        Assert.Contains("not a regular file", failure.Reason);
    }

    [Fact]
    public void LinkToPngDecodes()
    {
        string folder = CreateFolder();
        string file = Path.Combine(folder, "real.png");
        File.WriteAllBytes(file, Core.ImageTestFiles.EncodeRgba(4, 3, Core.ImageTestFiles.PatternRgba(4, 3), SkiaSharp.SKEncodedImageFormat.Png));
        string link = Path.Combine(folder, "link.png");
        File.CreateSymbolicLink(link, file);

        bool ok = ImageDecoder.TryDecode(link, null, out DecodedImage? image, out ImageFailure? _);

        Assert.True(ok);
        Assert.Equal(4, image!.Width);
    }

    [Fact]
    public void LinkToLargeFileIsTooLarge()
    {
        string folder = CreateFolder();
        string file = Path.Combine(folder, "big.png");
        File.WriteAllBytes(file, new byte[2000]);
        string link = Path.Combine(folder, "link.png");
        File.CreateSymbolicLink(link, file);

        bool ok = ImageDecoder.TryDecode(link, new ImageDecoderOptions { MaxFileBytes = 1000 }, out DecodedImage? _, out ImageFailure? failure);

        Assert.False(ok);
        Assert.Equal(ImageFailureKind.TooLarge, failure!.Kind);
    }

    private static string CreateFolder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnr-verify-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}
