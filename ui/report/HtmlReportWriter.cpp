// SPDX-License-Identifier: GPL-3.0-or-later
#include "HtmlReportWriter.h"

#include <QBuffer>
#include <QLocale>
#include <QObject>
#include <QSaveFile>

namespace greygate {

namespace {

QString esc(const QString &text)
{
    return text.toHtmlEscaped();
}

QString when(qint64 seconds)
{
    return QLocale().toString(QDateTime::fromSecsSinceEpoch(seconds), QLocale::ShortFormat);
}

QString number(quint64 n)
{
    return QLocale().toString(n);
}

QString counterCells(const protocol::Counters &c)
{
    QString row;
    for (quint64 n : {c.attempts, c.deferred, c.passed, c.bypassed, c.blocked, c.failedToRetry})
        row += QStringLiteral("<td align=\"right\">") + number(n) + QStringLiteral("</td>");
    return row;
}

QString counterHeader(const QString &first)
{
    return QStringLiteral("<tr><th align=\"left\">") + esc(first) + QStringLiteral("</th><th>") +
           QObject::tr("Attempts") + QStringLiteral("</th><th>") + QObject::tr("Deferred") +
           QStringLiteral("</th><th>") + QObject::tr("Passed") + QStringLiteral("</th><th>") +
           QObject::tr("Bypassed") + QStringLiteral("</th><th>") + QObject::tr("Blocked") +
           QStringLiteral("</th><th>") + QObject::tr("Failed to retry") +
           QStringLiteral("</th></tr>\n");
}

QString percentOf(quint64 part, quint64 whole)
{
    return whole == 0 ? QStringLiteral("-")
                      : QLocale().toString(100.0 * double(part) / double(whole), 'f', 1) +
                            QStringLiteral(" %");
}

} // namespace

QString HtmlReportWriter::resourceName(int chart)
{
    return QStringLiteral("chart-%1.png").arg(chart);
}

QString HtmlReportWriter::html(const ReportData &data, const QList<ReportChart> &charts,
                               Images images)
{
    const protocol::Counters total = data.total();
    QString h;
    h.reserve(4096 + data.rejectionCount() * 200);
    h += QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>") +
         QObject::tr("Greygate report") +
         QStringLiteral("</title>\n<style>body{font-family:sans-serif;font-size:10pt} "
                        "table{border-collapse:collapse;margin-bottom:12pt} "
                        "th,td{border:1px solid #999;padding:2px 6px} th{background:#e8e8e8} "
                        "h1{font-size:16pt} h2{font-size:13pt;margin-top:16pt} "
                        ".error{color:#b00020}</style></head><body>\n");
    h += QStringLiteral("<h1>") + QObject::tr("Greygate report") + QStringLiteral("</h1>\n<p>") +
         QObject::tr("From %1 to %2, generated %3.")
             .arg(esc(when(data.from)), esc(when(data.to)),
                  esc(QLocale().toString(data.generatedAt, QLocale::ShortFormat))) +
         QStringLiteral("</p>\n");

    h += QStringLiteral("<h2>") + QObject::tr("Summary") + QStringLiteral("</h2>\n<p>") +
         QObject::tr("%1 connection attempts; %2 deferred by greylisting (%3), %4 passed, "
                     "%5 bypassed, %6 blocked, %7 senders failed to retry.")
             .arg(number(total.attempts), number(total.deferred),
                  percentOf(total.deferred, total.attempts), number(total.passed),
                  number(total.bypassed), number(total.blocked), number(total.failedToRetry)) +
         QStringLiteral("</p>\n<table>\n") + counterHeader(QObject::tr("Proxy"));
    for (const ReportProxy &p : data.proxies) {
        if (p.error.isEmpty()) {
            h += QStringLiteral("<tr><td>") + esc(p.name) + QStringLiteral("</td>") +
                 counterCells(p.total) + QStringLiteral("</tr>\n");
        } else {
            h += QStringLiteral("<tr><td>") + esc(p.name) +
                 QStringLiteral("</td><td colspan=\"6\" class=\"error\">") + esc(p.error) +
                 QStringLiteral("</td></tr>\n");
        }
    }
    h += QStringLiteral("<tr><th align=\"left\">") + QObject::tr("All proxies") +
         QStringLiteral("</th>") + counterCells(total) + QStringLiteral("</tr>\n</table>\n");

    for (int i = 0; i < charts.size(); ++i) {
        const ReportChart &chart = charts.at(i);
        h += QStringLiteral("<h2>") + esc(chart.title) + QStringLiteral("</h2>\n<p><img src=\"");
        if (images == Images::Embedded) {
            QByteArray png;
            QBuffer buffer(&png);
            buffer.open(QIODevice::WriteOnly);
            chart.image.save(&buffer, "PNG");
            h += QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png.toBase64());
        } else {
            h += resourceName(i);
        }
        h += QStringLiteral("\" width=\"640\" alt=\"") + esc(chart.title) +
             QStringLiteral("\"></p>\n");
    }

    h += QStringLiteral("<h2>") + QObject::tr("Over time (all proxies)") +
         QStringLiteral("</h2>\n<table>\n") + counterHeader(QObject::tr("From"));
    for (const protocol::StatsBucket &b : data.combinedBuckets()) {
        if (b.counters.isZero())
            continue;
        h += QStringLiteral("<tr><td>") + esc(when(b.time)) + QStringLiteral("</td>") +
             counterCells(b.counters) + QStringLiteral("</tr>\n");
    }
    h += QStringLiteral("</table>\n");

    h += QStringLiteral("<h2>") + QObject::tr("Rejections") + QStringLiteral("</h2>\n");
    if (data.rejectionCount() == 0)
        h += QStringLiteral("<p>") + QObject::tr("No rejection in this range.") +
             QStringLiteral("</p>\n");
    for (const ReportProxy &p : data.proxies) {
        if (p.rejections.isEmpty())
            continue;
        h += QStringLiteral("<h3>") + esc(p.name) + QStringLiteral(" (") +
             number(quint64(p.rejections.size())) +
             (p.rejectionsTruncated ? QObject::tr(", the first only") : QString()) +
             QStringLiteral(")</h3>\n<table>\n<tr><th>") + QObject::tr("Time") +
             QStringLiteral("</th><th>") + QObject::tr("Reason") + QStringLiteral("</th><th>") +
             QObject::tr("Client") + QStringLiteral("</th><th>") + QObject::tr("Sender") +
             QStringLiteral("</th><th>") + QObject::tr("Recipient") + QStringLiteral("</th><th>") +
             QObject::tr("Attempts") + QStringLiteral("</th></tr>\n");
        for (const protocol::RejectionRow &r : p.rejections) {
            h += QStringLiteral("<tr><td>") + esc(when(r.time)) + QStringLiteral("</td><td>") +
                 esc(r.reason) + QStringLiteral("</td><td>") + esc(r.client) +
                 QStringLiteral("</td><td>") +
                 esc(r.sender.isEmpty() ? QStringLiteral("<>") : r.sender) +
                 QStringLiteral("</td><td>") + esc(r.recipient) +
                 QStringLiteral("</td><td align=\"right\">") + QString::number(r.attempts) +
                 QStringLiteral("</td></tr>\n");
        }
        h += QStringLiteral("</table>\n");
    }
    h += QStringLiteral("</body></html>\n");
    return h;
}

bool HtmlReportWriter::write(const ReportData &data, const QList<ReportChart> &charts,
                             const QString &path, QString *error)
{
    QSaveFile file(path);
    const QByteArray bytes = html(data, charts, Images::Embedded).toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace greygate
