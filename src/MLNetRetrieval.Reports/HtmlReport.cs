using System.Net;
using System.Text;

namespace MLNetRetrieval.Reports;

/// <summary>
/// Builds a self-describing HTML page of headings, paragraphs, tables, preformatted text and images.
/// Images are linked by path relative to the page, so the page and its PNG files move together.
/// </summary>
/// <remarks>Every text is HTML-encoded; the page has no script and no external resource.</remarks>
public sealed class HtmlReport
{
    private readonly StringBuilder _body = new();

    /// <summary>Starts a page.</summary>
    /// <param name="title">Page title and first heading.</param>
    public HtmlReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    /// <summary>Page title.</summary>
    public string Title { get; }

    /// <summary>Adds a second-level heading.</summary>
    /// <param name="text">Heading text.</param>
    /// <returns>This report.</returns>
    public HtmlReport AddHeading(string text)
    {
        _body.Append("<h2>").Append(Encode(text)).AppendLine("</h2>");
        return this;
    }

    /// <summary>Adds a paragraph.</summary>
    /// <param name="text">Paragraph text.</param>
    /// <returns>This report.</returns>
    public HtmlReport AddParagraph(string text)
    {
        _body.Append("<p>").Append(Encode(text)).AppendLine("</p>");
        return this;
    }

    /// <summary>Adds preformatted text, such as a command line or a plain-text table.</summary>
    /// <param name="text">The text, shown in a monospace font with its line breaks.</param>
    /// <returns>This report.</returns>
    public HtmlReport AddPreformatted(string text)
    {
        _body.Append("<pre>").Append(Encode(text)).AppendLine("</pre>");
        return this;
    }

    /// <summary>Adds a table.</summary>
    /// <param name="caption">Table caption.</param>
    /// <param name="header">Column titles.</param>
    /// <param name="rows">Cells of each row; each row has as many cells as the header.</param>
    /// <returns>This report.</returns>
    /// <exception cref="ArgumentException">A row's length differs from the header's.</exception>
    public HtmlReport AddTable(string caption, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        _body.AppendLine("<table>");
        _body.Append("<caption>").Append(Encode(caption)).AppendLine("</caption>");
        _body.Append("<thead><tr>");
        foreach (string cell in header)
            _body.Append("<th>").Append(Encode(cell)).Append("</th>");
        _body.AppendLine("</tr></thead>");
        _body.AppendLine("<tbody>");
        int rowNumber = 0;
        foreach (IReadOnlyList<string> row in rows)
        {
            if (row.Count != header.Count)
                throw new ArgumentException($"Table row {rowNumber} has {row.Count} cells but the header has {header.Count}.", nameof(rows));
            _body.Append("<tr>");
            for (int i = 0; i < row.Count; i++)
                _body.Append(i == 0 ? "<th scope=\"row\">" : "<td>").Append(Encode(row[i])).Append(i == 0 ? "</th>" : "</td>");
            _body.AppendLine("</tr>");
            rowNumber++;
        }

        _body.AppendLine("</tbody></table>");
        return this;
    }

    /// <summary>Adds an image with a caption.</summary>
    /// <param name="relativePath">Path of the image relative to the page, with forward slashes.</param>
    /// <param name="caption">Caption and alternative text.</param>
    /// <returns>This report.</returns>
    public HtmlReport AddImage(string relativePath, string caption)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        _body.Append("<figure><img src=\"").Append(Encode(relativePath.Replace('\\', '/')))
            .Append("\" alt=\"").Append(Encode(caption)).Append("\" width=\"").Append(ReportPlots.Width).Append("\">")
            .Append("<figcaption>").Append(Encode(caption)).AppendLine("</figcaption></figure>");
        return this;
    }

    /// <summary>Returns the whole page as HTML text.</summary>
    /// <returns>An HTML5 document.</returns>
    public string ToHtml()
    {
        var page = new StringBuilder();
        page.AppendLine("<!DOCTYPE html>");
        page.AppendLine("<html lang=\"en\">");
        page.AppendLine("<head>");
        page.AppendLine("<meta charset=\"utf-8\">");
        page.Append("<title>").Append(Encode(Title)).AppendLine("</title>");
        page.AppendLine("<style>");
        page.AppendLine("body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }");
        page.AppendLine("table { border-collapse: collapse; margin: 1em 0; }");
        page.AppendLine("th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: right; }");
        page.AppendLine("th[scope=row], caption { text-align: left; }");
        page.AppendLine("pre { background: #f4f4f4; padding: 0.7em; overflow-x: auto; }");
        page.AppendLine("img { max-width: 100%; height: auto; border: 1px solid #ddd; }");
        page.AppendLine("</style>");
        page.AppendLine("</head>");
        page.AppendLine("<body>");
        page.Append("<h1>").Append(Encode(Title)).AppendLine("</h1>");
        page.Append(_body);
        page.AppendLine("</body>");
        page.AppendLine("</html>");
        return page.ToString();
    }

    /// <summary>Writes the page as UTF-8, creating the folder when needed.</summary>
    /// <param name="path">The HTML file to write.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        File.WriteAllText(path, ToHtml(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
