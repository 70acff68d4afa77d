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
//   "CQHN"  (version 2) u8 coarseSearch (0 exact, 1 HNSW) | i32 coarseConnectivity | i32 coarseEfSearch
//           | the HNSW stream of the centroid graph (HnswIndex.Save) when coarseSearch is 1 and trained, else nothing
//   "CRC "  u32 CRC-32 of every preceding byte
// The precomputed distance table and the packed codebooks are derived and rebuilt by the first search after loading.
// Version history:
//   1  first layout.
//   2  adds "CQHN", the coarse search setting and centroid graph. Indexes with exact coarse search are still written
//      as version 1, byte for byte, so older readers load them; version 1 files load with exact coarse search.
public sealed partial class IvfPqIndex
{
    private const string Signature = "MLNRIVPQ";
    private const uint FormatVersion = 2;
    private const uint ExactFormatVersion = 1;

    /// <summary>
    /// Writes the index in the versioned binary format (little-endian, CRC-32 checked). The stream is left open
    /// and need not be seekable.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        uint version = CoarseSearch == CoarseSearch.Exact ? ExactFormatVersion : FormatVersion;
        var writer = new BinaryFormatWriter(stream, Signature, version, version);
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
        if (version == ExactFormatVersion)
        {
            writer.Finish();
            return;
        }

        HnswIndex? graph = _coarse.GetGraph();
        byte[] graphBytes = Array.Empty<byte>();
        if (graph is not null)
        {
            using var buffer = new MemoryStream();
            graph.Save(buffer);
            graphBytes = buffer.ToArray();
        }

        writer.BeginSection("CQHN", checked(1 + (2 * sizeof(int)) + graphBytes.Length));
        writer.WriteByte((byte)CoarseSearch);
        writer.WriteInt32(CoarseConnectivity);
        writer.WriteInt32(CoarseEfSearch);
        writer.WriteBytes(graphBytes);
        writer.EndSection();
        writer.Finish();
    }

    /// <summary>Reads an index written by <see cref="Save"/>. The stream is left open.</summary>
    /// <exception cref="InvalidDataException">The data is truncated, corrupt or not an IVF-PQ index; the message
    /// names the field and byte offset.</exception>
    public static IvfPqIndex Load(Stream stream)
    {
        var reader = BinaryFormatReader.Open(stream, "IVF-PQ index stream");
        uint version = reader.ReadHeader(Signature, FormatVersion);
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
        if (version >= 2)
        {
            ReadCoarseGraph(reader, index, header);
        }

        reader.VerifyChecksum();

        for (int list = 0; list < header.NumberOfLists; list++)
        {
            index._lists.SetList(list, ids[list], vectors[list], codes[list]);
        }

        return index;
    }

    private static void ReadCoarseGraph(BinaryFormatReader reader, IvfPqIndex index, IvfFormat.Header header)
    {
        reader.BeginSection("CQHN");
        long offset = reader.Offset;
        byte search = reader.ReadByte("coarseSearch");
        if (search > (byte)CoarseSearch.Hnsw)
        {
            throw reader.Error("coarseSearch", offset, $"{search} is not a CoarseSearch (0 Exact, 1 Hnsw)");
        }

        offset = reader.Offset;
        int connectivity = reader.ReadInt32("coarseConnectivity");
        if (connectivity < 2 || connectivity > HnswOptions.MaxConnectivity)
        {
            throw reader.Error("coarseConnectivity", offset, $"{connectivity} is outside [2, {HnswOptions.MaxConnectivity}]");
        }

        offset = reader.Offset;
        int efSearch = reader.ReadInt32("coarseEfSearch");
        if (efSearch < 1)
        {
            throw reader.Error("coarseEfSearch", offset, $"{efSearch} is below 1");
        }

        index._coarse.GraphConnectivity = connectivity;
        index._coarse.GraphEfSearch = efSearch;
        index._coarse.Search = (CoarseSearch)search;
        offset = reader.Offset;
        long length = reader.SectionRemaining;
        bool expectGraph = search == (byte)CoarseSearch.Hnsw && header.Centroids.Length > 0;
        if (!expectGraph)
        {
            if (length != 0)
            {
                throw reader.Error("coarse graph", offset, $"found {length} bytes of graph but the index {(search == 0 ? "uses exact coarse search" : "is not trained")}");
            }

            reader.EndSection();
            return;
        }

        var bytes = new byte[length];
        reader.ReadBytes(bytes, "coarse graph");
        reader.EndSection();
        HnswIndex graph;
        try
        {
            graph = HnswIndex.Load(new MemoryStream(bytes, writable: false), "IVF-PQ coarse graph");
        }
        catch (InvalidDataException inner)
        {
            throw new InvalidDataException($"IVF-PQ index stream: the coarse graph at offset {offset} is corrupt: {inner.Message}", inner);
        }

        CheckGraph(reader, graph, header, connectivity, offset);
        index._coarse.SetGraph(graph);
    }

    private static void CheckGraph(BinaryFormatReader reader, HnswIndex graph, IvfFormat.Header header, int connectivity, long offset)
    {
        if (graph.Metric != DistanceMetric.SquaredEuclidean || graph.Dimension != header.Dimension || graph.Count != header.NumberOfLists
            || graph.DeletedCount != 0 || graph.Connectivity != connectivity)
        {
            throw reader.Error("coarse graph", offset,
                $"the graph holds {graph.Count} {graph.Metric} vectors of dimension {graph.Dimension} with M {graph.Connectivity} and {graph.DeletedCount} deleted, but the index needs {header.NumberOfLists} SquaredEuclidean centroids of dimension {header.Dimension} with M {connectivity} and none deleted");
        }

        int d = header.Dimension;
        for (int list = 0; list < header.NumberOfLists; list++)
        {
            if (!graph.Contains(list) || !graph.GetVector(list).SequenceEqual(header.Centroids.AsSpan(list * d, d)))
            {
                throw reader.Error("coarse graph", offset, $"node {list} is missing or differs from centroid {list}");
            }
        }
    }
}
