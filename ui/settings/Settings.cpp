// SPDX-License-Identifier: GPL-3.0-or-later
#include "Settings.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMetaEnum>
#include <QSaveFile>
#include <QStandardPaths>

namespace greygate {

namespace {

enum class Kind
{
    Bytes,    // binary: base64 in the file
    BytesMap, // name -> binary
    String,
    Bool,
    Int,
    List, // a JSON array of objects
};

struct Spec
{
    Settings::Key key;
    QLatin1String name;
    Kind kind;
    QVariant defaultValue;
};

const std::vector<Spec> &specs()
{
    static const std::vector<Spec> table = {
        {Settings::Key::WindowGeometry, QLatin1String("window/geometry"), Kind::Bytes,
         QByteArray()},
        {Settings::Key::WindowState, QLatin1String("window/state"), Kind::Bytes, QByteArray()},
        {Settings::Key::SplitterStates, QLatin1String("window/splitters"), Kind::BytesMap,
         QVariantMap()},
        {Settings::Key::ColumnStates, QLatin1String("tables/columns"), Kind::BytesMap,
         QVariantMap()},
        {Settings::Key::LastPage, QLatin1String("window/lastPage"), Kind::String,
         QStringLiteral("dashboard")},
        {Settings::Key::Scope, QLatin1String("window/scope"), Kind::String, QString()},
        {Settings::Key::Proxies, QLatin1String("proxies"), Kind::List, QVariantList()},
        {Settings::Key::LocalEngineEnabled, QLatin1String("localEngine/enabled"), Kind::Bool, true},
        {Settings::Key::LiveFollowTail, QLatin1String("live/followTail"), Kind::Bool, true},
        {Settings::Key::QueuePageSize, QLatin1String("queue/pageSize"), Kind::Int, 200},
    };
    return table;
}

const Spec &spec(Settings::Key key)
{
    for (const Spec &s : specs()) {
        if (s.key == key)
            return s;
    }
    Q_UNREACHABLE();
}

// Stored values keep the type the default has, whatever the caller passed, so a later
// comparison with the stored value is a comparison of like with like.
QVariant normalised(const Spec &s, const QVariant &v)
{
    switch (s.kind) {
    case Kind::Bytes:
        return v.toByteArray();
    case Kind::BytesMap: {
        QVariantMap out;
        const QVariantMap in = v.toMap();
        for (auto it = in.begin(); it != in.end(); ++it)
            out.insert(it.key(), it.value().toByteArray());
        return out;
    }
    case Kind::String:
        return v.toString();
    case Kind::Bool:
        return v.toBool();
    case Kind::Int:
        return v.toInt();
    case Kind::List:
        return v.toList();
    }
    return v;
}

QJsonValue toJson(const Spec &s, const QVariant &v)
{
    switch (s.kind) {
    case Kind::Bytes:
        return QString::fromLatin1(v.toByteArray().toBase64());
    case Kind::BytesMap: {
        QJsonObject o;
        const QVariantMap map = v.toMap();
        for (auto it = map.begin(); it != map.end(); ++it)
            o.insert(it.key(), QString::fromLatin1(it.value().toByteArray().toBase64()));
        return o;
    }
    default:
        return QJsonValue::fromVariant(v);
    }
}

QVariant fromJson(const Spec &s, const QJsonValue &j)
{
    switch (s.kind) {
    case Kind::Bytes:
        return QByteArray::fromBase64(j.toString().toLatin1());
    case Kind::BytesMap: {
        QVariantMap map;
        const QJsonObject o = j.toObject();
        for (auto it = o.begin(); it != o.end(); ++it)
            map.insert(it.key(), QByteArray::fromBase64(it.value().toString().toLatin1()));
        return map;
    }
    case Kind::String:
        return j.toString();
    case Kind::Bool:
        return j.toBool(s.defaultValue.toBool());
    case Kind::Int:
        return j.toInt(s.defaultValue.toInt());
    case Kind::List:
        return j.toArray().toVariantList();
    }
    return {};
}

} // namespace

Settings::Settings(QString path, int saveDelayMs, QObject *parent)
    : QObject(parent)
    , m_path(std::move(path))
{
    m_saveTimer.setSingleShot(true);
    m_saveTimer.setInterval(saveDelayMs);
    connect(&m_saveTimer, &QTimer::timeout, this, [this] {
        QString error;
        if (!saveNow(&error))
            Q_EMIT saveFailed(error);
    });
}

Settings::~Settings()
{
    if (m_saveTimer.isActive())
        saveNow();
}

QString Settings::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
           QStringLiteral("/greygate/console.json");
}

QString Settings::name(Key key)
{
    return spec(key).name;
}

QVariant Settings::defaultValue(Key key)
{
    return spec(key).defaultValue;
}

QVariant Settings::value(Key key) const
{
    const Spec &s = spec(key);
    const auto it = m_values.constFind(s.name);
    return it == m_values.constEnd() ? s.defaultValue : *it;
}

bool Settings::setValue(Key key, const QVariant &value)
{
    const Spec &s = spec(key);
    const QVariant v = normalised(s, value);
    if (v == this->value(key))
        return false;
    if (v == s.defaultValue)
        m_values.remove(s.name);
    else
        m_values.insert(s.name, v);
    scheduleSave();
    Q_EMIT changed(key);
    return true;
}

QVariant Settings::mapValue(Key key, const QString &entry) const
{
    return value(key).toMap().value(entry);
}

bool Settings::setMapValue(Key key, const QString &entry, const QVariant &value)
{
    QVariantMap map = this->value(key).toMap();
    if (value.isNull())
        map.remove(entry);
    else
        map.insert(entry, value);
    return setValue(key, map);
}

void Settings::migrate(QJsonObject &values)
{
    // Older consoles (0.0.x) called these differently; the new name wins if both exist.
    static const std::pair<QLatin1String, QLatin1String> renamed[] = {
        {QLatin1String("mainWindow/geometry"), QLatin1String("window/geometry")},
        {QLatin1String("mainWindow/state"), QLatin1String("window/state")},
        {QLatin1String("lastPage"), QLatin1String("window/lastPage")},
        {QLatin1String("columns"), QLatin1String("tables/columns")},
    };
    for (const auto &[from, to] : renamed) {
        const auto it = values.find(from);
        if (it == values.end())
            continue;
        if (!values.contains(to))
            values.insert(to, QJsonValue(*it));
        values.remove(from);
    }
}

bool Settings::load(QString *error)
{
    QFile file(m_path);
    if (!file.exists())
        return true;
    if (!file.open(QIODevice::ReadOnly)) {
        if (error)
            *error = m_path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(4 << 20), &parseError);
    if (!doc.isObject()) {
        m_damaged = true;
        if (error)
            *error = m_path + QStringLiteral(": not a settings file (") + parseError.errorString() +
                     QStringLiteral("); using the defaults");
        return false;
    }
    QJsonObject raw = doc.object();
    migrate(raw);
    QVariantMap values;
    for (const Spec &s : specs()) {
        const auto it = raw.constFind(s.name);
        if (it == raw.constEnd())
            continue;
        const QVariant v = fromJson(s, *it);
        if (v != s.defaultValue)
            values.insert(s.name, v);
    }
    // Unknown names (a newer console's settings) are dropped here: the registry is the list.
    m_values = values;
    return true;
}

bool Settings::saveNow(QString *error)
{
    m_saveTimer.stop();
    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath())) {
        if (error)
            *error = info.absolutePath() + QStringLiteral(": cannot create the folder");
        return false;
    }
    if (m_damaged) {
        // Keep what could not be read, for the admin to look at, rather than overwrite it.
        QFile::remove(m_path + QStringLiteral(".damaged"));
        QFile::rename(m_path, m_path + QStringLiteral(".damaged"));
        m_damaged = false;
    }
    QJsonObject o;
    for (const Spec &s : specs()) {
        const auto it = m_values.constFind(s.name);
        if (it != m_values.constEnd())
            o.insert(s.name, toJson(s, *it));
    }
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(QJsonDocument(o).toJson(QJsonDocument::Indented)) < 0 || !file.commit()) {
        if (error)
            *error = m_path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    ++m_saveCount;
    return true;
}

void Settings::scheduleSave()
{
    m_saveTimer.start(); // restarted by every change: one write once the changes settle
}

} // namespace greygate
