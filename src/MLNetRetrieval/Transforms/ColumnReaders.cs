using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNetRetrieval.Transforms;

/// <summary>
/// Reads ids and labels from columns of the types that ML.NET pipelines usually carry, converting
/// them to the representations the retrieval layer works with (Int64 ids, text labels).
/// </summary>
internal static class ColumnReaders
{
    /// <summary>Checks that <paramref name="type"/> is an integer number type usable as an id.</summary>
    public static bool IsIdType(DataViewType type) =>
        type == NumberDataViewType.Int64 || type == NumberDataViewType.Int32 || type == NumberDataViewType.UInt32
        || type == NumberDataViewType.UInt64 || type == NumberDataViewType.Int16 || type == NumberDataViewType.UInt16
        || type == NumberDataViewType.Byte || type == NumberDataViewType.SByte;

    /// <summary>Checks that <paramref name="type"/> can be turned into a text label.</summary>
    public static bool IsLabelType(DataViewType type) =>
        type is TextDataViewType or BooleanDataViewType or KeyDataViewType || (type is NumberDataViewType && type.RawType != typeof(void));

    private const string KeyValuesAnnotation = "KeyValues";

    /// <summary>Describes the accepted id types for error messages.</summary>
    public const string IdTypesText = "an integer number type (Int64, Int32, UInt32, UInt64, Int16, UInt16, Byte or SByte)";

    /// <summary>Describes the accepted label types for error messages.</summary>
    public const string LabelTypesText = "Text, Boolean, a key type or a number type";

    /// <summary>Creates a getter that returns the id of the current row as Int64.</summary>
    public static Func<long> CreateIdGetter(DataViewRow row, DataViewSchema.Column column)
    {
        DataViewType type = column.Type;
        if (type == NumberDataViewType.Int64) return Wrap<long>(row, column, v => v);
        if (type == NumberDataViewType.Int32) return Wrap<int>(row, column, v => v);
        if (type == NumberDataViewType.Int16) return Wrap<short>(row, column, v => v);
        if (type == NumberDataViewType.SByte) return Wrap<sbyte>(row, column, v => v);
        if (type == NumberDataViewType.UInt32) return Wrap<uint>(row, column, v => v);
        if (type == NumberDataViewType.UInt16) return Wrap<ushort>(row, column, v => v);
        if (type == NumberDataViewType.Byte) return Wrap<byte>(row, column, v => v);
        if (type == NumberDataViewType.UInt64)
            return Wrap<ulong>(row, column, v => v <= long.MaxValue ? (long)v
                : throw new InvalidDataException($"Id {v} in column '{column.Name}' is larger than Int64.MaxValue. Use ids from 0 to {long.MaxValue}."));
        throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' has type {type}; an id column needs {IdTypesText}.");
    }

    /// <summary>Creates a getter that returns the label of the current row as text.</summary>
    /// <remarks>
    /// Numbers use the invariant culture's shortest round-trip form, so the Single label 3 and the
    /// Int32 label 3 both read "3". Key values use the column's KeyValues annotation when it has one,
    /// else the key's raw index; the missing key (0) reads as the empty string.
    /// </remarks>
    public static Func<string> CreateLabelGetter(DataViewRow row, DataViewSchema.Column column)
    {
        DataViewType type = column.Type;
        switch (type)
        {
            case TextDataViewType:
                return Wrap<ReadOnlyMemory<char>>(row, column, v => v.ToString());
            case BooleanDataViewType:
                return Wrap<bool>(row, column, v => v ? "true" : "false");
            case KeyDataViewType key:
                return CreateKeyGetter(row, column, key);
        }

        if (type == NumberDataViewType.Single) return Wrap<float>(row, column, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == NumberDataViewType.Double) return Wrap<double>(row, column, v => v.ToString(CultureInfo.InvariantCulture));
        if (type == NumberDataViewType.UInt64) return Wrap<ulong>(row, column, v => v.ToString(CultureInfo.InvariantCulture));
        if (IsIdType(type))
        {
            Func<long> id = CreateIdGetter(row, column);
            return () => id().ToString(CultureInfo.InvariantCulture);
        }

        throw new ArgumentOutOfRangeException(nameof(column), $"Column '{column.Name}' has type {type}; a label column needs {LabelTypesText}.");
    }

    private static Func<string> CreateKeyGetter(DataViewRow row, DataViewSchema.Column column, KeyDataViewType key)
    {
        string[]? names = null;
        if (column.Annotations.Schema.GetColumnOrNull(KeyValuesAnnotation) is { } annotation
            && annotation.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.Annotations.GetValue(KeyValuesAnnotation, ref values);
            names = values.DenseValues().Select(v => v.ToString()).ToArray();
        }

        Func<ulong> raw = key.RawType == typeof(uint) ? Wrap<uint>(row, column, v => (ulong)v)
            : key.RawType == typeof(ulong) ? Wrap<ulong>(row, column, v => v)
            : key.RawType == typeof(ushort) ? Wrap<ushort>(row, column, v => (ulong)v)
            : Wrap<byte>(row, column, v => (ulong)v);
        return () =>
        {
            ulong value = raw();
            if (value == 0)
                return string.Empty;
            return names is not null && value <= (ulong)names.Length
                ? names[value - 1]
                : value.ToString(CultureInfo.InvariantCulture);
        };
    }

    private static Func<TResult> Wrap<TValue, TResult>(DataViewRow row, DataViewSchema.Column column, Func<TValue, TResult> convert)
    {
        ValueGetter<TValue> getter = row.GetGetter<TValue>(column);
        return () =>
        {
            TValue value = default!;
            getter(ref value);
            return convert(value);
        };
    }

    private static Func<long> Wrap<TValue>(DataViewRow row, DataViewSchema.Column column, Func<TValue, long> convert) =>
        Wrap<TValue, long>(row, column, convert);

    private static Func<string> Wrap<TValue>(DataViewRow row, DataViewSchema.Column column, Func<TValue, string> convert) =>
        Wrap<TValue, string>(row, column, convert);

    private static Func<ulong> Wrap<TValue>(DataViewRow row, DataViewSchema.Column column, Func<TValue, ulong> convert) =>
        Wrap<TValue, ulong>(row, column, convert);
}
