// SPDX-License-Identifier: GPL-3.0-or-later
#include "CsvReportWriter.h"

#include <QSaveFile>

namespace greygate {

namespace {

QString counterFields(const protocol::Counters &c)
{
    return QString::number(c.attempts) + u',' + QString::number(c.deferred) + u',' +
           QString::number(c.passed) + u',' + QString::number(c.bypassed) + u',' +
           QString::number(c.blocked) + u',' + QString::number(c.failedToRetry);
}

} // namespace

QString CsvReportWriter::field(const QString &value)
{
    QString v = value;
    if (!v.isEmpty() && (v.front() == u'=' || v.front() == u'+' || v.front() == u'-' ||
                         v.front() == u'@' || v.front() == u'\t' || v.front() == u'\r'))
        v.prepend(u'\'');
    if (v.contains(u',') || v.contains(u'"') || v.contains(u'\n') || v.contains(u'\r')) {
        v.replace(QStringLiteral("\""), QStringLiteral("\"\""));
        return u'"' + v + u'"';
    }
    return v;
}

QString CsvReportWriter::isoTime(qint64 seconds)
{
    return QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(Qt::ISODate);
}

QByteArray CsvReportWriter::csv(const ReportData &data)
{
    QString out;
    const QString eol = QStringLiteral("\r\n");
    out += QStringLiteral("section,proxy,time,attempts,deferred,passed,bypassed,blocked,"
                          "failedToRetry,reason,client,sender,recipient,firstSeen") +
           eol;
    const QString range = isoTime(data.from);
    out += QStringLiteral("total,") + field(QStringLiteral("All proxies")) + u',' + range + u',' +
           counterFields(data.total()) + QStringLiteral(",,,,,") + eol;
    for (const ReportProxy &p : data.proxies) {
        if (!p.error.isEmpty()) {
            out += QStringLiteral("error,") + field(p.name) + u',' + range +
                   QStringLiteral(",,,,,,,") + field(p.error) + QStringLiteral(",,,,") + eol;
            continue;
        }
        out += QStringLiteral("total,") + field(p.name) + u',' + range + u',' +
               counterFields(p.total) + QStringLiteral(",,,,,") + eol;
    }
    for (const ReportProxy &p : data.proxies) {
        for (const protocol::StatsBucket &b : p.buckets) {
            out += QStringLiteral("bucket,") + field(p.name) + u',' + isoTime(b.time) + u',' +
                   counterFields(b.counters) + QStringLiteral(",,,,,") + eol;
        }
    }
    for (const ReportProxy &p : data.proxies) {
        for (const protocol::RejectionRow &r : p.rejections) {
            out += QStringLiteral("rejection,") + field(p.name) + u',' + isoTime(r.time) + u',' +
                   QString::number(r.attempts) + QStringLiteral(",,,,,,") + field(r.reason) + u',' +
                   field(r.client) + u',' + field(r.sender) + u',' + field(r.recipient) + u',' +
                   (r.firstSeen > 0 ? isoTime(r.firstSeen) : QString()) + eol;
        }
    }
    return out.toUtf8();
}

bool CsvReportWriter::write(const ReportData &data, const QString &path, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const QByteArray bytes = csv(data);
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace greygate
