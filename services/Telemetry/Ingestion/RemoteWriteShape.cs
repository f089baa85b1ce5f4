namespace Platform.Telemetry.Ingestion;

/// <summary>
/// Counts what a remote-write body holds — time series, their labels and samples — by walking its protobuf wire format
/// without building a message, so a body that would expand past the limits (one series with a thousand labels and a
/// million samples, each sample becoming a labelled point) is refused before anything is allocated for it.
/// </summary>
public static class RemoteWriteShape
{
    // prometheus.WriteRequest: 1 = TimeSeries. prometheus.TimeSeries: 1 = Label, 2 = Sample.
    const int TimeSeriesField = 1, LabelField = 1, SampleField = 2;
    const int LengthDelimited = 2;

    /// <summary>Why the body is refused, with the HTTP status to answer; null when it is within the limits.</summary>
    public static (int Status, string Reason)? Check(ReadOnlySpan<byte> body, int maxSamples, int maxLabels)
    {
        long samples = 0;
        var series = 0;
        try
        {
            var position = 0;
            while (position < body.Length)
            {
                var (field, wireType) = ReadTag(body, ref position);
                if (field != TimeSeriesField || wireType != LengthDelimited)
                {
                    Skip(body, ref position, wireType);
                    continue;
                }
                var timeSeries = Slice(body, ref position);
                var (labels, points) = CountSeries(timeSeries);
                if (labels > maxLabels + 1) // + __name__
                    return (StatusCodes.Status400BadRequest, $"timeseries[{series}].labels: at most {maxLabels} labels besides __name__ (it has {labels - 1})");
                samples += points;
                if (samples > maxSamples)
                    return (StatusCodes.Status413PayloadTooLarge, $"timeseries: at most {maxSamples} samples per request (timeseries[{series}] brings the count past it); send smaller requests (max_samples_per_send)");
                series++;
            }
        }
        catch (FormatException ex)
        {
            return (StatusCodes.Status400BadRequest, $"the body is not a WriteRequest: {ex.Message}");
        }
        return null;
    }

    static (int Labels, long Samples) CountSeries(ReadOnlySpan<byte> series)
    {
        int labels = 0;
        long samples = 0;
        var position = 0;
        while (position < series.Length)
        {
            var (field, wireType) = ReadTag(series, ref position);
            if (wireType == LengthDelimited && field == LabelField) labels++;
            else if (wireType == LengthDelimited && field == SampleField) samples++;
            Skip(series, ref position, wireType);
        }
        return (labels, samples);
    }

    static (int Field, int WireType) ReadTag(ReadOnlySpan<byte> data, ref int position)
    {
        var tag = ReadVarint(data, ref position);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> data, ref int position)
    {
        var length = ReadVarint(data, ref position);
        if (length > (ulong)(data.Length - position)) throw new FormatException("a length runs past the end");
        var slice = data.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    static void Skip(ReadOnlySpan<byte> data, ref int position, int wireType)
    {
        switch (wireType)
        {
            case 0: ReadVarint(data, ref position); break;
            case 1: Advance(data, ref position, 8); break;
            case 2: Slice(data, ref position); break;
            case 5: Advance(data, ref position, 4); break;
            default: throw new FormatException($"wire type {wireType} is not used by remote write");
        }
    }

    static void Advance(ReadOnlySpan<byte> data, ref int position, int count)
    {
        if (count > data.Length - position) throw new FormatException("a field runs past the end");
        position += count;
    }

    static ulong ReadVarint(ReadOnlySpan<byte> data, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length) throw new FormatException("a number runs past the end");
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new FormatException("a number is longer than 10 bytes");
    }
}
