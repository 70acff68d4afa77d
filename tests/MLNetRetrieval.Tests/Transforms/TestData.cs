using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRetrieval.Tests.Transforms;

/// <summary>A collection row with an id and a label.</summary>
public sealed class ItemRow
{
    public float[] Features = [];

    public long Id;

    public string Label = string.Empty;
}

internal static class TestData
{
    /// <summary>Seeded rows with small integer components, so float32 distances are exact and ties happen.</summary>
    public static ItemRow[] IntegerRows(int count, int dimension, int seed, int maxValue = 4, int labelCount = 3)
    {
        var random = new Random(seed);
        var rows = new ItemRow[count];
        for (int i = 0; i < count; i++)
        {
            var values = new float[dimension];
            for (int j = 0; j < dimension; j++)
                values[j] = random.Next(maxValue);
            rows[i] = new ItemRow { Features = values, Id = 100 + 3 * i, Label = $"c{random.Next(labelCount)}" };
        }

        return rows;
    }

    public static IDataView View(MLContext context, ItemRow[] rows, int dimension)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(ItemRow));
        definition[nameof(ItemRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return context.Data.LoadFromEnumerable(rows, definition);
    }

    /// <summary>Naive squared-L2 k-NN in float64 with ties to the lower id.</summary>
    public static (long[] Ids, double[] Distances) NaiveSquaredL2(ItemRow[] collection, float[] query, int k, long excludedId = -1)
    {
        var all = collection
            .Where(r => r.Id != excludedId)
            .Select(r => (Distance: r.Features.Zip(query, (a, b) => ((double)a - b) * ((double)a - b)).Sum(), r.Id))
            .OrderBy(p => p.Distance).ThenBy(p => p.Id)
            .Take(k)
            .ToArray();
        return (all.Select(p => p.Id).ToArray(), all.Select(p => p.Distance).ToArray());
    }

    /// <summary>Converts a schema to a <see cref="SchemaShape"/>; ML.NET 6.0.0 keeps that conversion internal.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(null, new object[] { schema })!;

    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "mlnr-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs a .NET program from the test output folder in a separate process.</summary>
    public static (int ExitCode, string Output) RunDotnet(string assemblyFile, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assemblyFile));
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{assemblyFile} did not finish in 5 minutes.");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
