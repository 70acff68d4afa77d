namespace MLNetRetrieval.Benchmarks;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchmarkOptions(string DataFolder, int Repeats, int[] Threads, int Queries, bool SkipFaiss, string Python, int PipelineQueries = 0, string? ImagesFolder = null, int ImageCount = 400)
{
    public static BenchmarkOptions Parse(string[] args)
    {
        var options = new BenchmarkOptions("/usr/share/datasets/fashion-mnist", 3, new[] { 1, 2 }, 0, false, "/usr/bin/python3");
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Option {args[i]} needs a value.");
            options = args[i] switch
            {
                "--data" => options with { DataFolder = Value() },
                "--repeats" => options with { Repeats = int.Parse(Value()) },
                "--threads" => options with { Threads = Value().Split(',').Select(int.Parse).ToArray() },
                "--queries" => options with { Queries = int.Parse(Value()) },
                "--skip-faiss" => options with { SkipFaiss = true },
                "--python" => options with { Python = Value() },
                "--pipeline" => options with { PipelineQueries = int.Parse(Value()) },
                "--images" => options with { ImagesFolder = Value() },
                "--count" => options with { ImageCount = int.Parse(Value()) },
                _ => throw new ArgumentException($"Unknown option {args[i]}; valid: --data DIR, --repeats N, --threads 1,2, --queries N, --skip-faiss, --python PATH, --pipeline N, --images DIR, --count N."),
            };
        }

        if (options.Repeats < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(args), options.Repeats, "--repeats must be at least 1.");
        }

        if (options.ImageCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(args), options.ImageCount, "--count must be at least 1.");
        }

        return options;
    }
}
