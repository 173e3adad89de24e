// SPDX-License-Identifier: GPL-3.0-or-later
#include "ConfigFile.h"

#include <QFile>

namespace greygate {

namespace {

bool validKey(QStringView key)
{
    if (key.isEmpty())
        return false;
    for (QChar c : key) {
        const char16_t u = c.unicode();
        if (!((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' || u == '_'))
            return false;
    }
    return true;
}

// "value # comment" -> "value"; a '#' glued to a word ("text#1") or inside quotes
// ("\"a # b\"") stays part of the value.
QStringView stripComment(QStringView value)
{
    qsizetype from = 0;
    if (!value.isEmpty() && (value.front() == u'"' || value.front() == u'\'')) {
        const qsizetype close = value.indexOf(value.front(), 1);
        if (close > 0)
            from = close + 1;
    }
    for (qsizetype i = from; i < value.size(); ++i) {
        if (value[i] == u'#' && (i == 0 || value[i - 1].isSpace()))
            return value.first(i);
    }
    return value;
}

QString unquote(QStringView value)
{
    if (value.size() >= 2 && ((value.front() == u'"' && value.back() == u'"') ||
                              (value.front() == u'\'' && value.back() == u'\'')))
        return value.sliced(1, value.size() - 2).toString();
    return value.toString();
}

} // namespace

bool ConfigFile::parse(QByteArrayView text, const QStringList &allowedKeys, QString *error)
{
    m_entries.clear();
    const QString where = m_path.isEmpty() ? QStringLiteral("config") : m_path;
    if (text.size() > kMaxBytes) {
        *error = where + u": file larger than " + QString::number(kMaxBytes) + u" bytes";
        return false;
    }
    const QString all = QString::fromUtf8(text);
    if (all.contains(QChar::ReplacementCharacter)) {
        *error = where + u": not valid UTF-8 text";
        return false;
    }
    int lineNumber = 0;
    for (QStringView line : QStringView(all).split(u'\n')) {
        ++lineNumber;
        const QString at = where + u':' + QString::number(lineNumber) + u": ";
        if (line.endsWith(u'\r'))
            line.chop(1);
        const QStringView trimmed = line.trimmed();
        if (trimmed.isEmpty() || trimmed.startsWith(u'#'))
            continue;
        const qsizetype eq = trimmed.indexOf(u'=');
        if (eq < 0) {
            *error = at + u"expected \"key = value\", got \"" + trimmed.left(80) + u'"';
            return false;
        }
        QString key = trimmed.first(eq).trimmed().toString();
        if (key.startsWith(u"--"))
            key.remove(0, 2); // tolerate a command-line spelling in the file
        if (!validKey(key)) {
            *error = at + u"invalid key \"" + key.left(80) + u'"';
            return false;
        }
        if (!allowedKeys.isEmpty() && !allowedKeys.contains(key)) {
            *error = at + u"unknown key \"" + key + u'"';
            return false;
        }
        const QString value = unquote(stripComment(trimmed.sliced(eq + 1).trimmed()).trimmed());
        m_entries.append(Entry{key, value, lineNumber});
    }
    return true;
}

bool ConfigFile::load(const QString &path, const QStringList &allowedKeys, QString *error)
{
    m_path = path;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = path + u": cannot open: " + file.errorString();
        return false;
    }
    // Read one byte more than allowed so an over-large file is reported, not truncated.
    const QByteArray text = file.read(kMaxBytes + 1);
    if (file.error() != QFileDevice::NoError) {
        *error = path + u": cannot read: " + file.errorString();
        return false;
    }
    return parse(text, allowedKeys, error);
}

} // namespace greygate
