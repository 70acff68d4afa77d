using MLNetRetrieval.Images.IO;

namespace MLNetRetrieval.Tests.Images.Cli;

/// <summary>The folder walker: which files it lists, in what order, with which ids and labels.</summary>
public sealed class ImageFolderTests
{
    [Fact]
    public void ListSortsByOrdinalRelativePath()
    {
        string root = CreateTree("b/z.png", "a/y.jpg", "B/x.png", "a/sub/a.png", "top.gif");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root);

        // Ordinal order puts upper case before lower case and compares '/' (0x2F) below letters.
        Assert.Equal(["B/x.png", "a/sub/a.png", "a/y.jpg", "b/z.png", "top.gif"], files.Select(file => file.RelativePath));
        Assert.Equal([0L, 1, 2, 3, 4], files.Select(file => file.Id));
        Assert.Equal(Path.Combine(root, "a", "sub", "a.png"), files[1].Path);
    }

    [Fact]
    public void ListOrderIgnoresCreationOrder()
    {
        string first = CreateTree("c.png", "a.png", "b.png");
        string second = CreateTree("b.png", "c.png", "a.png");

        Assert.Equal(
            ImageFolder.List(first).Select(file => file.RelativePath),
            ImageFolder.List(second).Select(file => file.RelativePath));
    }

    [Fact]
    public void DefaultExtensionsIgnoreCase()
    {
        string root = CreateTree("a.JPG", "b.jpeg", "c.Png", "d.bmp", "e.gif", "f.webp", "g.txt", "h.tiff", "noextension");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root);

        Assert.Equal(["a.JPG", "b.jpeg", "c.Png", "d.bmp", "e.gif", "f.webp"], files.Select(file => file.RelativePath));
    }

    [Fact]
    public void ChosenExtensionsReplaceDefaults()
    {
        string root = CreateTree("a.png", "b.tiff", "c.jpg", "d.TIF");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root, new ImageFolderOptions { Extensions = [".tiff", "tif"] });

        Assert.Equal(["b.tiff", "d.TIF"], files.Select(file => file.RelativePath));
    }

    [Fact]
    public void ListSkipsDotFilesAndFolders()
    {
        string root = CreateTree("a.png", "._a.png", ".cache/b.png", "sub/.hidden.png", "sub/c.png");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root);

        Assert.Equal(["a.png", "sub/c.png"], files.Select(file => file.RelativePath));
    }

    [Fact]
    public void ListDoesNotFollowFolderLinks()
    {
        string root = CreateTree("a/x.png", "b/y.png");
        Directory.CreateSymbolicLink(Path.Combine(root, "a", "loop"), root);
        File.CreateSymbolicLink(Path.Combine(root, "b", "z.png"), Path.Combine(root, "a", "x.png"));

        IReadOnlyList<ImageFile> files = ImageFolder.List(root);

        Assert.Equal(["a/x.png", "b/y.png", "b/z.png"], files.Select(file => file.RelativePath));
    }

    [Fact]
    public void LabelsComeFromFirstSubFolder()
    {
        string root = CreateTree("cats/a.png", "cats/young/b.png", "dogs/c.png");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root, new ImageFolderOptions { LabelsFromFolders = true });

        Assert.Equal(["cats", "cats", "dogs"], files.Select(file => file.Label));
    }

    [Fact]
    public void LabelsAreNullWhenNotRequested()
    {
        string root = CreateTree("cats/a.png");

        IReadOnlyList<ImageFile> files = ImageFolder.List(root);

        Assert.Null(Assert.Single(files).Label);
    }

    [Fact]
    public void LabelsRejectImageAtRoot()
    {
        string root = CreateTree("cats/a.png", "loose.png");

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.List(root, new ImageFolderOptions { LabelsFromFolders = true }));

        Assert.Contains("loose.png", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFolderThrowsNotFound()
    {
        string missing = Path.Combine(CreateTree(), "missing");

        var error = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.List(missing));

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FolderWithoutImagesIsInvalid()
    {
        string root = CreateTree("notes.txt");

        var error = Assert.Throws<InvalidDataException>(() => ImageFolder.List(root));

        Assert.Contains("jpg", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("*.png")]
    [InlineData("a/png")]
    [InlineData("tar.gz")]
    public void InvalidExtensionIsRejected(string extension)
    {
        string root = CreateTree("a.png");

        var error = Assert.Throws<ArgumentException>(() => ImageFolder.List(root, new ImageFolderOptions { Extensions = [extension] }));

        Assert.Equal("extensions", error.ParamName);
    }

    /// <summary>Returns the name of the first file of <paramref name="folder"/> in ordinal order.</summary>
    internal static string FirstFileName(string folder) =>
        Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).First()!;

    /// <summary>Creates a temporary folder with empty files at the given relative paths; the walker does not read file contents.</summary>
    internal static string CreateTree(params string[] relativePaths)
    {
        string root = Path.Combine(Path.GetTempPath(), "mlnr-image-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        foreach (string relative in relativePaths)
        {
            string path = Path.Combine(root, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, []);
        }

        return root;
    }
}
