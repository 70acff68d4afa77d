namespace MLNetRetrieval.IO;

/// <summary>
/// Locations of the Fashion-MNIST test split that ships with the CLI as its default data set.
/// </summary>
/// <remarks>
/// The repository keeps the files in <c>examples/data/fashion-mnist/</c>. The CLI project copies
/// <c>examples/data/**</c> into <c>data/</c> beside its executable, so at run time they are at
/// <c>{AppContext.BaseDirectory}/data/fashion-mnist/</c>.
/// </remarks>
internal static class EmbeddedData
{
    /// <summary>Folder of the Fashion-MNIST files, relative to the application base directory.</summary>
    public const string FashionMnistFolder = "data/fashion-mnist";

    /// <summary>Gzip-compressed IDX file with 10000 images of 28 × 28 uint8 pixels.</summary>
    public const string FashionMnistImagesFileName = "t10k-images-idx3-ubyte.gz";

    /// <summary>Gzip-compressed IDX file with 10000 uint8 labels in [0, 9].</summary>
    public const string FashionMnistLabelsFileName = "t10k-labels-idx1-ubyte.gz";

    /// <summary>Number of images in the embedded split.</summary>
    public const int FashionMnistCount = 10000;

    /// <summary>Image side length in pixels. Each image is a vector of 28 * 28 = 784 components.</summary>
    public const int FashionMnistImageSide = 28;

    /// <summary>Class name per label, indexed by label value.</summary>
    public static IReadOnlyList<string> FashionMnistClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Returns the paths of the embedded images and labels files below <paramref name="baseDirectory"/>
    /// (default: <see cref="AppContext.BaseDirectory"/>), or null paths when either file is missing.
    /// </summary>
    public static (string? ImagesPath, string? LabelsPath) LocateFashionMnist(string? baseDirectory = null)
    {
        string folder = Path.Combine(baseDirectory ?? AppContext.BaseDirectory, FashionMnistFolder);
        string images = Path.Combine(folder, FashionMnistImagesFileName);
        string labels = Path.Combine(folder, FashionMnistLabelsFileName);
        return File.Exists(images) && File.Exists(labels) ? (images, labels) : (null, null);
    }

    /// <summary>
    /// Reads the embedded Fashion-MNIST split as 10000 vectors of 784 floats (pixel values 0 to 255) with labels "0" to "9".
    /// </summary>
    /// <exception cref="FileNotFoundException">The files are not below <paramref name="baseDirectory"/>.</exception>
    public static VectorSet ReadFashionMnist(string? baseDirectory = null)
    {
        var (images, labels) = LocateFashionMnist(baseDirectory);
        if (images is null || labels is null)
        {
            string folder = Path.Combine(baseDirectory ?? AppContext.BaseDirectory, FashionMnistFolder);
            throw new FileNotFoundException(
                $"Embedded Fashion-MNIST data not found in {folder}. The CLI build copies examples/data/** there, so rebuild the CLI or pass a data file explicitly.",
                Path.Combine(folder, FashionMnistImagesFileName));
        }

        return VectorFile.Read(images, new VectorReadOptions { LabelsPath = labels });
    }
}
