using System.Text;
using MLNetRetrieval.Images.Decoding;
using MLNetRetrieval.Images.Preprocessing;

namespace MLNetRetrieval.Images.Transforms;

/// <summary>
/// What a saved image embedding step needs to rebuild its <see cref="ImageEmbedder"/>: the ONNX model
/// bytes and every persistable setting of <see cref="ImageEmbedderOptions"/>.
/// </summary>
/// <remarks>
/// The transform saves the settings the embedder resolved (preprocessing with ResNet18's mean image,
/// tensor names), not the null defaults, so a loaded model needs no file of the ResNet18 package.
/// <see cref="ImageEmbedderOptions.ConfigureSession"/> is code, not data, so it is not saved: a loaded
/// model runs on the CPU until the caller rebuilds the embedder with its own options.
/// </remarks>
internal sealed class ImageEmbeddingState
{
    // Binary layout, little-endian; text is i32 UTF-8 length (−1 for null) then the bytes:
    //   signature "MLNRIMGE" (8 bytes) | u32 writtenVersion | u32 minReaderVersion
    //   i32 dimension | text inputName | text outputName
    //   u8 hasPreprocessing
    //   [hasPreprocessing] i32 width | i32 height | u8 resizeMode | u8 channelOrder | u8 layout
    //                      f32 scale | 3 × f32 mean | 3 × f32 std
    //                      u8 hasMeanImage | [hasMeanImage] 3 × width × height f32, in tensor layout
    //   u8 normalize | u8 flipAverage | i32 batchSize | i32 threads | i32 decodeThreads
    //   i32 maxSide | i64 maxPixelCount | i64 maxFileBytes
    //   i64 modelLength | model bytes (the ONNX file)
    // Version history:
    //   1: first version.
    private const string Signature = "MLNRIMGE";
    private const uint WrittenVersion = 1;
    private const uint MinReaderVersion = 1;
    private const uint ReaderVersion = 1;

    /// <summary>Upper bound on Width × Height, the same as <see cref="ImagePreprocessing.Validate"/> accepts.</summary>
    private const long MaxTensorPixels = 1L << 26;

    /// <summary>Upper bound on a stored tensor name, which guards allocation when reading.</summary>
    private const int MaxNameBytes = 1 << 16;

    public ImageEmbeddingState(int dimension, ImageEmbedderOptions options, byte[] modelBytes)
    {
        Dimension = dimension;
        Options = options;
        ModelBytes = modelBytes;
    }

    /// <summary>Length of one embedding.</summary>
    public int Dimension { get; }

    /// <summary>The persisted settings; <see cref="ImageEmbedderOptions.ModelPath"/> and <see cref="ImageEmbedderOptions.ModelBytes"/> are not used.</summary>
    public ImageEmbedderOptions Options { get; }

    /// <summary>The ONNX model file.</summary>
    public byte[] ModelBytes { get; }

    /// <summary>Returns the settings that <paramref name="embedder"/> resolved, ready to be saved.</summary>
    public static ImageEmbeddingState FromEmbedder(ImageEmbedder embedder, ImageEmbedderOptions requested)
    {
        var resolved = new ImageEmbedderOptions
        {
            InputName = embedder.InputName,
            OutputName = embedder.OutputName,
            Preprocessing = embedder.Preprocessing,
            Normalize = requested.Normalize,
            FlipAverage = requested.FlipAverage,
            BatchSize = requested.BatchSize,
            Threads = requested.Threads,
            DecodeThreads = requested.DecodeThreads,
            Decoder = requested.Decoder ?? new ImageDecoderOptions(),
        };
        return new ImageEmbeddingState(embedder.Dimension, resolved, embedder.ModelBytes.ToArray());
    }

    /// <summary>Returns options that rebuild the embedder from the stored bytes, with no model path.</summary>
    public ImageEmbedderOptions CreateEmbedderOptions() => new()
    {
        ModelBytes = ModelBytes,
        InputName = Options.InputName,
        OutputName = Options.OutputName,
        Preprocessing = Options.Preprocessing,
        Normalize = Options.Normalize,
        FlipAverage = Options.FlipAverage,
        BatchSize = Options.BatchSize,
        Threads = Options.Threads,
        DecodeThreads = Options.DecodeThreads,
        Decoder = Options.Decoder,
    };

    public byte[] Serialize()
    {
        using var stream = new MemoryStream(ModelBytes.Length + 256);
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Encoding.ASCII.GetBytes(Signature));
            writer.Write(WrittenVersion);
            writer.Write(MinReaderVersion);
            writer.Write(Dimension);
            WriteText(writer, Options.InputName);
            WriteText(writer, Options.OutputName);

            ImagePreprocessing? preprocessing = Options.Preprocessing;
            writer.Write((byte)(preprocessing is null ? 0 : 1));
            if (preprocessing is not null)
            {
                writer.Write(preprocessing.Width);
                writer.Write(preprocessing.Height);
                writer.Write((byte)preprocessing.ResizeMode);
                writer.Write((byte)preprocessing.ChannelOrder);
                writer.Write((byte)preprocessing.Layout);
                writer.Write(preprocessing.Scale);
                for (int c = 0; c < 3; c++)
                    writer.Write(preprocessing.Mean[c]);
                for (int c = 0; c < 3; c++)
                    writer.Write(preprocessing.Std[c]);
                writer.Write((byte)(preprocessing.MeanImage is null ? 0 : 1));
                foreach (float value in preprocessing.MeanImage ?? [])
                    writer.Write(value);
            }

            writer.Write((byte)(Options.Normalize ? 1 : 0));
            writer.Write((byte)(Options.FlipAverage ? 1 : 0));
            writer.Write(Options.BatchSize);
            writer.Write(Options.Threads);
            writer.Write(Options.DecodeThreads);
            writer.Write(Options.Decoder.MaxSide);
            writer.Write(Options.Decoder.MaxPixelCount);
            writer.Write(Options.Decoder.MaxFileBytes);
            writer.Write((long)ModelBytes.Length);
            writer.Write(ModelBytes);
        }

        return stream.ToArray();
    }

    public static ImageEmbeddingState Deserialize(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            string signature = Encoding.ASCII.GetString(reader.ReadBytes(8));
            if (signature != Signature)
                throw Corrupt(0, $"the signature is '{signature}', expected '{Signature}'");
            uint writtenVersion = reader.ReadUInt32();
            uint minReaderVersion = reader.ReadUInt32();
            if (minReaderVersion > ReaderVersion)
                throw new InvalidDataException($"The image embedding state was written by format version {writtenVersion} and needs a reader of version {minReaderVersion} or newer; this MLNetRetrieval.Images reads version {ReaderVersion}. Upgrade MLNetRetrieval.Images.");

            long offset = stream.Position;
            int dimension = reader.ReadInt32();
            if (dimension < 1 || dimension > ImageEmbeddingColumns.MaxDimension)
                throw Corrupt(offset, $"the dimension is {dimension}, expected 1 to {ImageEmbeddingColumns.MaxDimension}");
            string? inputName = ReadText(reader);
            string? outputName = ReadText(reader);

            ImagePreprocessing? preprocessing = null;
            offset = stream.Position;
            if (ReadFlag(reader, "hasPreprocessing", offset))
                preprocessing = ReadPreprocessing(reader);

            offset = stream.Position;
            bool normalize = ReadFlag(reader, "normalize", offset);
            offset = stream.Position;
            bool flipAverage = ReadFlag(reader, "flipAverage", offset);
            offset = stream.Position;
            int batchSize = reader.ReadInt32();
            if (batchSize < 1)
                throw Corrupt(offset, $"the batch size is {batchSize}, expected 1 or more");
            offset = stream.Position;
            int threads = reader.ReadInt32();
            if (threads < 0)
                throw Corrupt(offset, $"the thread count is {threads}, expected 0 or more");
            offset = stream.Position;
            int decodeThreads = reader.ReadInt32();
            if (decodeThreads < 0)
                throw Corrupt(offset, $"the decode thread count is {decodeThreads}, expected 0 or more");

            offset = stream.Position;
            var decoder = new ImageDecoderOptions { MaxSide = reader.ReadInt32(), MaxPixelCount = reader.ReadInt64(), MaxFileBytes = reader.ReadInt64() };
            if (decoder.MaxSide < 1 || decoder.MaxPixelCount < 1 || decoder.MaxFileBytes < 1)
                throw Corrupt(offset, $"the decoder limits ({decoder.MaxSide}, {decoder.MaxPixelCount}, {decoder.MaxFileBytes}) must be positive");

            offset = stream.Position;
            long modelLength = reader.ReadInt64();
            if (modelLength < 1 || modelLength != stream.Length - stream.Position)
                throw Corrupt(offset, $"the model length {modelLength} differs from the {stream.Length - stream.Position} bytes that follow");
            byte[] model = reader.ReadBytes((int)modelLength);

            var options = new ImageEmbedderOptions
            {
                InputName = inputName,
                OutputName = outputName,
                Preprocessing = preprocessing,
                Normalize = normalize,
                FlipAverage = flipAverage,
                BatchSize = batchSize,
                Threads = threads,
                DecodeThreads = decodeThreads,
                Decoder = decoder,
            };
            return new ImageEmbeddingState(dimension, options, model);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(stream.Position, "the data ends early");
        }
    }

    private static ImagePreprocessing ReadPreprocessing(BinaryReader reader)
    {
        long offset = reader.BaseStream.Position;
        int width = reader.ReadInt32();
        int height = reader.ReadInt32();
        if (width < 1 || height < 1 || (long)width * height > MaxTensorPixels)
            throw Corrupt(offset, $"the tensor size is {width}x{height}, expected positive sides and at most {MaxTensorPixels} pixels");

        offset = reader.BaseStream.Position;
        var resizeMode = (ImageResizeMode)reader.ReadByte();
        var channelOrder = (ChannelOrder)reader.ReadByte();
        var layout = (TensorLayout)reader.ReadByte();
        if (!Enum.IsDefined(resizeMode) || !Enum.IsDefined(channelOrder) || !Enum.IsDefined(layout))
            throw Corrupt(offset, $"the resize mode, channel order or layout ({(byte)resizeMode}, {(byte)channelOrder}, {(byte)layout}) is unknown");

        float scale = reader.ReadSingle();
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
            mean[c] = reader.ReadSingle();
        for (int c = 0; c < 3; c++)
            std[c] = reader.ReadSingle();

        offset = reader.BaseStream.Position;
        float[]? meanImage = null;
        if (ReadFlag(reader, "hasMeanImage", offset))
        {
            int length = checked(3 * width * height);
            if ((long)length * sizeof(float) > reader.BaseStream.Length - reader.BaseStream.Position)
                throw Corrupt(offset, $"the mean image of {length} values does not fit in the remaining {reader.BaseStream.Length - reader.BaseStream.Position} bytes");
            meanImage = new float[length];
            for (int i = 0; i < length; i++)
                meanImage[i] = reader.ReadSingle();
        }

        return new ImagePreprocessing
        {
            Width = width,
            Height = height,
            ResizeMode = resizeMode,
            ChannelOrder = channelOrder,
            Layout = layout,
            Scale = scale,
            Mean = mean,
            Std = std,
            MeanImage = meanImage,
        };
    }

    private static void WriteText(BinaryWriter writer, string? text)
    {
        if (text is null)
        {
            writer.Write(-1);
            return;
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text);
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }

    private static string? ReadText(BinaryReader reader)
    {
        long offset = reader.BaseStream.Position;
        int length = reader.ReadInt32();
        if (length == -1)
            return null;
        if (length < 0 || length > MaxNameBytes || length > reader.BaseStream.Length - reader.BaseStream.Position)
            throw Corrupt(offset, $"a tensor name has length {length}");
        return Encoding.UTF8.GetString(reader.ReadBytes(length));
    }

    private static bool ReadFlag(BinaryReader reader, string field, long offset)
    {
        byte value = reader.ReadByte();
        return value switch
        {
            0 => false,
            1 => true,
            _ => throw Corrupt(offset, $"{field} is {value}, expected 0 or 1"),
        };
    }

    private static InvalidDataException Corrupt(long offset, string detail) =>
        new($"The model's image embedding state is invalid at byte {offset}: {detail}. The model file is damaged or was not written by MLNetRetrieval.Images.");
}
