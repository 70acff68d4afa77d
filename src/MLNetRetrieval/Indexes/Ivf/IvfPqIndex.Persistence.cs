using MLNetRetrieval.Persistence;
using MLNetRetrieval.Quantization;

namespace MLNetRetrieval.Indexes;

// Saved layout of IvfPqIndex (see BinaryFormat for the header, sections and checksum):
//   header  "MLNRIVPQ" | writtenVersion | minReaderVersion
//   "IVF "  i32 dimension | i32 numberOfLists (nlist) | i32 defaultNumberOfProbes | u8 trained (0 or 1)
//           | u8 encodeResiduals | u8 storeVectorsForReranking | i64 count
//   "CENT"  nlist × dimension × f32 coarse centroids when trained, empty otherwise
//   "PQ  "  and "BOOK": the product quantizer, as ProductQuantizer writes them
//   "SIZE"  nlist × i64 list sizes, summing to count
//   "IDS "  count × i64 ids, list after list, each list in insertion order
//   "CODE"  count × codeSize bytes, in the same order
//   "VECS"  count × dimension × f32 raw vectors in the same order when storeVectorsForReranking, empty otherwise
//   "CRC "  u32 CRC-32 of every preceding byte
// The precomputed distance table and the packed codebooks are derived and rebuilt by the first search after loading.
// Version history:
//   1  first layout.
public sealed partial class IvfPqIndex
{
    private const string Signature = "MLNRIVPQ";
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
        byte[] flags = { EncodeResiduals ? (byte)1 : (byte)0, StoreVectorsForReranking ? (byte)1 : (byte)0 };
        IvfFormat.WriteHeader(writer, Dimension, NumberOfLists, DefaultNumberOfProbes, _coarse, _lists, flags);
        Quantizer.WriteSections(writer);
        IvfFormat.WriteLists(writer, _lists);

        writer.BeginSection("CODE", checked((long)Count * Quantizer.CodeSize));
        for (int list = 0; list < NumberOfLists; list++)
        {
            writer.WriteBytes(_lists.Codes(list));
        }

        writer.EndSection();

        writer.BeginSection("VECS", checked((long)Count * _lists.VectorLength * sizeof(float)));
        for (int list = 0; list < NumberOfLists; list++)
        {
            writer.WriteSingles(_lists.Vectors(list));
        }

        writer.EndSection();
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an IVF-PQ index; the message
    /// names the field and byte offset.</exception>
    public static IvfPqIndex Load(Stream stream)
    {
        var reader = BinaryFormatReader.Open(stream, "IVF-PQ index stream");
        reader.ReadHeader(Signature, FormatVersion);
        IvfFormat.Header header = IvfFormat.ReadHeader(reader, extraFlagCount: 2);
        ProductQuantizer quantizer = ProductQuantizer.ReadSections(reader);
        if (quantizer.Dimension != header.Dimension)
        {
            throw reader.Error("PQ dimension", header.CountOffset, $"the quantizer has dimension {quantizer.Dimension} but the index has {header.Dimension}");
        }

        if (quantizer.IsTrained != (header.Centroids.Length > 0))
        {
            throw reader.Error("PQ trained", header.CountOffset, $"the quantizer's trained flag is {quantizer.IsTrained} but the coarse quantizer's is {header.Centroids.Length > 0}; both must match");
        }

        bool storesVectors = header.ExtraFlags[1] == 1;
        var index = new IvfPqIndex(quantizer, header.NumberOfLists, encodeResiduals: header.ExtraFlags[0] == 1, storesVectors);
        index._defaultNumberOfProbes = header.DefaultNumberOfProbes;
        if (header.Centroids.Length > 0)
        {
            index._coarse.SetCentroids(header.Centroids);
        }

        (long[] sizes, long[][] ids) = IvfFormat.ReadLists(reader, header, storesVectors ? header.Dimension : 0, quantizer.CodeSize);
        int codeSize = quantizer.CodeSize;
        reader.BeginSection("CODE");
        reader.EnsureSectionHolds(checked(header.Count * codeSize), sizeof(byte), "codes");
        var codes = new byte[header.NumberOfLists][];
        for (int list = 0; list < header.NumberOfLists; list++)
        {
            codes[list] = new byte[sizes[list] * codeSize];
            reader.ReadBytes(codes[list], "codes");
        }

        reader.EndSection();

        int stored = storesVectors ? header.Dimension : 0;
        reader.BeginSection("VECS");
        reader.EnsureSectionHolds(checked(header.Count * stored), sizeof(float), "vectors");
        var vectors = new float[header.NumberOfLists][];
        for (int list = 0; list < header.NumberOfLists; list++)
        {
            vectors[list] = new float[sizes[list] * stored];
            reader.ReadSingles(vectors[list], "vectors");
        }

        reader.EndSection();
        reader.VerifyChecksum();

        for (int list = 0; list < header.NumberOfLists; list++)
        {
            index._lists.SetList(list, ids[list], vectors[list], codes[list]);
        }

        return index;
    }
}
