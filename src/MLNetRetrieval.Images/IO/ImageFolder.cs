namespace MLNetRetrieval.Images.IO;

/// <summary>One image file found under a folder, with the id and label that a retrieval index gives it.</summary>
/// <param name="Path">Full path of the file.</param>
/// <param name="RelativePath">Path below the searched folder, with '/' between parts.</param>
/// <param name="Id">Position in the sorted listing, counted from 0.</param>
/// <param name="Label">Name of the first sub-folder below the searched folder; null when labels were not requested.</param>
public sealed record ImageFile(string Path, string RelativePath, long Id, string? Label);

/// <summary>Settings of <see cref="ImageFolder.List(string, ImageFolderOptions?)"/>.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>Extensions listed when <see cref="Extensions"/> is not set: jpg, jpeg, png, bmp, gif, webp.</summary>
    public static IReadOnlyList<string> DefaultExtensions { get; } = ["jpg", "jpeg", "png", "bmp", "gif", "webp"];

    /// <summary>File extensions to list, without the dot; matched without regard to case.</summary>
    public IReadOnlyList<string> Extensions { get; set; } = DefaultExtensions;

    /// <summary>
    /// Whether each image gets the name of its first sub-folder as its label (cats/x.jpg and
    /// cats/young/y.jpg both get "cats"). Then every image must sit in a sub-folder.
    /// </summary>
    public bool LabelsFromFolders { get; set; }
}

/// <summary>
/// Lists the image files of a folder tree in a stable order, so the same tree always gives the same
/// ids. <see cref="ImageManifest"/> records which file each id stands for.
/// </summary>
public static class ImageFolder
{
    /// <summary>Lists the images under <paramref name="folder"/> and its sub-folders.</summary>
    /// <remarks>
    /// Files are sorted by their relative path with '/' separators, by ordinal comparison of UTF-16
    /// code units, so the order and the ids do not depend on the file system or the culture. Files and
    /// folders whose names start with a dot are skipped (on Unix .NET reports them as hidden), which
    /// also skips macOS "._name.jpg" metadata files and version-control folders. Symbolic links to
    /// files are listed; symbolic links to folders are not followed.
    /// </remarks>
    /// <param name="folder">The folder to search.</param>
    /// <param name="options">Extensions and labels; null for the defaults.</param>
    /// <returns>The images in sorted order, with ids 0 to Count − 1.</returns>
    /// <exception cref="ArgumentException">An extension is empty or contains a path separator or a wildcard.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">No file has one of the extensions, or labels were requested and an image sits directly in <paramref name="folder"/>.</exception>
    public static IReadOnlyList<ImageFile> List(string folder, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= new ImageFolderOptions();
        HashSet<string> extensions = NormalizeExtensions(options.Extensions);
        string root = System.IO.Path.GetFullPath(folder);
        if (File.Exists(root))
            throw new DirectoryNotFoundException($"The image folder path {root} is a file, not a folder. Give the folder that contains the images.");
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder not found: {root}. Check the path.");

        var enumeration = new EnumerationOptions
        {
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            IgnoreInaccessible = false,
        };
        var found = new List<(string Relative, string Full)>();
        var pending = new Stack<DirectoryInfo>();
        pending.Push(new DirectoryInfo(root));
        while (pending.Count > 0)
        {
            foreach (FileSystemInfo entry in pending.Pop().EnumerateFileSystemInfos("*", enumeration))
            {
                // .NET's own recursion follows links to folders, so a link to an ancestor never ends; like find, this walk does not follow them.
                if (entry is DirectoryInfo folderEntry)
                {
                    if (folderEntry.LinkTarget is null)
                        pending.Push(folderEntry);
                    continue;
                }

                string extension = entry.Extension;
                if (extension.Length > 1 && extensions.Contains(extension[1..]))
                    found.Add((System.IO.Path.GetRelativePath(root, entry.FullName).Replace(System.IO.Path.DirectorySeparatorChar, '/'), entry.FullName));
            }
        }

        if (found.Count == 0)
        {
            throw new InvalidDataException(
                $"No image files with the extensions {string.Join(", ", extensions.Order(StringComparer.Ordinal))} found under {root}. Check the folder, or choose other extensions.");
        }

        found.Sort((a, b) => string.CompareOrdinal(a.Relative, b.Relative));
        var files = new ImageFile[found.Count];
        for (int i = 0; i < files.Length; i++)
        {
            (string relative, string full) = found[i];
            string? label = null;
            if (options.LabelsFromFolders)
            {
                int slash = relative.IndexOf('/', StringComparison.Ordinal);
                if (slash < 0)
                {
                    throw new InvalidDataException(
                        $"{full}: the image sits directly in {root}, so it has no sub-folder to take a label from. Move it into a category folder, or do not request labels from folders.");
                }

                label = relative[..slash];
            }

            files[i] = new ImageFile(full, relative, i, label);
        }

        return files;
    }

    /// <summary>Returns the extensions in lower case without a leading dot, rejecting empty ones and ones with separators or wildcards.</summary>
    private static HashSet<string> NormalizeExtensions(IReadOnlyList<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(extensions);
        var normalized = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string extension in extensions)
        {
            string trimmed = (extension ?? "").Trim().TrimStart('.');
            if (trimmed.Length == 0 || trimmed.AsSpan().IndexOfAny(['/', '\\', '*', '?', '.']) >= 0)
            {
                throw new ArgumentException(
                    $"'{extension}' is not a file extension; give names such as jpg or png, without paths, wildcards or inner dots.", nameof(extensions));
            }

            normalized.Add(trimmed.ToLowerInvariant());
        }

        if (normalized.Count == 0)
            throw new ArgumentException("The list of extensions is empty; give at least one, such as jpg.", nameof(extensions));
        return normalized;
    }
}
