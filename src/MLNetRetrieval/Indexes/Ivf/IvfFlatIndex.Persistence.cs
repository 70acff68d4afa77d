using MLNetRetrieval.Persistence;

namespace MLNetRetrieval.Indexes;

// Saved layout of IvfFlatIndex (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRIVFF" | writtenVersion | minReaderVersion
//   "IVF "  i32 dimension | i32 numberOfLists (nlist) | i32 defaultNumberOfProbes | u8 trained (0 or 1) | i64 count
//   "CENT"  nlist × dimension × f32 coarse centroids when trained, empty otherwise
//   "SIZE"  nlist × i64 list sizes, summing to count
//   "IDS "  count × i64 ids, list after list, each list in insertion order
//   "VECS"  count × dimension × f32, in the same order
//   "CRC "  u32 CRC-32 of every preceding byte
// The packed GEMM copies of the lists are derived and rebuilt by the first search after loading.
// Version history:
//   1  first layout.
public sealed partial class IvfFlatIndex
{
    private const string Signature = "MLNRIVFF";
    private const uint FormatVersion = 1;
    private const uint MinReaderVersion = 1;

    /// <summary>
    /// Writes the index in the versioned binary format (little-endian, CRC-32 checked). The stream is left open
    /// and need not be seekable.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryFormatWriter(stream, Signature, FormatVersion, MinReaderVersion);
        IvfFormat.WriteHeader(writer, Dimension, NumberOfLists, DefaultNumberOfProbes, _coarse, _lists, extraFlags: ReadOnlySpan<byte>.Empty);
        IvfFormat.WriteLists(writer, _lists);
        writer.BeginSection("VECS", checked((long)Count * Dimension * sizeof(float)));
        for (int list = 0; list < NumberOfLists; list++)
        {
            writer.WriteSingles(_lists.Vectors(list));
        }

        writer.EndSection();
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an IVF-Flat index; the message
    /// names the field and byte offset.</exception>
    public static IvfFlatIndex Load(Stream stream)
    {
        var reader = BinaryFormatReader.Open(stream, "IVF-Flat index stream");
        reader.ReadHeader(Signature, FormatVersion);
        IvfFormat.Header header = IvfFormat.ReadHeader(reader, extraFlagCount: 0);
        var index = new IvfFlatIndex(header.Dimension, header.NumberOfLists);
        index._defaultNumberOfProbes = header.DefaultNumberOfProbes;
        if (header.Centroids.Length > 0)
        {
            index._coarse.SetCentroids(header.Centroids);
        }

        (long[] sizes, long[][] ids) = IvfFormat.ReadLists(reader, header, header.Dimension, 0);

        reader.BeginSection("VECS");
        int d = header.Dimension;
        reader.EnsureSectionHolds(checked(header.Count * d), sizeof(float), "vectors");
        var vectors = new float[header.NumberOfLists][];
        for (int list = 0; list < header.NumberOfLists; list++)
        {
            vectors[list] = new float[sizes[list] * d];
            reader.ReadSingles(vectors[list], "vectors");
        }

        reader.EndSection();
        reader.VerifyChecksum();

        for (int list = 0; list < header.NumberOfLists; list++)
        {
            index._lists.SetList(list, ids[list], vectors[list], Array.Empty<byte>());
        }

        return index;
    }
}
