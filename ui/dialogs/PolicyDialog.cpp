// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyDialog.h"

#include "PolicyFieldValidator.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>

namespace greygate {

namespace {

const QStringList kTypes = {QStringLiteral("everyone"), QStringLiteral("internal"),
                            QStringLiteral("external"), QStringLiteral("domain"),
                            QStringLiteral("group"),    QStringLiteral("address")};
const QStringList kBases = {QStringLiteral("envelope"), QStringLiteral("header"),
                            QStringLiteral("both")};
const QLatin1String kErrorStyle("color: #b00020");

QDateTime fromIso(const QString &iso)
{
    return QDateTime::fromString(iso, Qt::ISODate).toUTC();
}

QString toIso(const QDateTime &dt)
{
    return dt.toUTC().toString(Qt::ISODate);
}

QLabel *errorLabel(QWidget *parent, const QString &field)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QStringLiteral("error-") + field);
    label->setStyleSheet(kErrorStyle);
    label->setWordWrap(true);
    label->hide();
    return label;
}

QDateTimeEdit *dateEdit(QWidget *parent, const QString &name)
{
    auto *edit = new QDateTimeEdit(parent);
    edit->setObjectName(name);
    edit->setTimeSpec(Qt::UTC);
    edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
    edit->setCalendarPopup(true);
    edit->setDateTime(QDateTime::currentDateTimeUtc());
    return edit;
}

} // namespace

PolicyDialog::PolicyDialog(QWidget *parent)
    : QDialog(parent)
    , m_narrative(new QLineEdit(this))
    , m_action(new QComboBox(this))
    , m_enabled(new QCheckBox(tr("Enabled"), this))
    , m_hasStart(new QCheckBox(tr("From"), this))
    , m_start(dateEdit(this, QStringLiteral("start")))
    , m_hasEnd(new QCheckBox(tr("Until (exclusive)"), this))
    , m_end(dateEdit(this, QStringLiteral("end")))
    , m_override(new QCheckBox(tr("Policy override: auto allow the correspondents of an "
                                  "outbound mail for every internal user"),
                               this))
    , m_bidirectional(new QCheckBox(tr("Bi-directional: also match with sender and recipient "
                                       "swapped"),
                                    this))
    , m_shadow(new QCheckBox(tr("Shadow (log only): record what this policy would do, "
                                "never act on it"),
                             this))
    , m_ranges(new QPlainTextEdit(this))
    , m_header(new QLabel(this))
    , m_conflict(new QWidget(this))
    , m_conflictText(new QLabel(m_conflict))
    , m_generalError(errorLabel(this, QStringLiteral("general")))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this))
{
    setWindowTitle(tr("Policy"));
    m_narrative->setObjectName(QStringLiteral("narrative"));
    m_narrative->setPlaceholderText(tr("what this policy is for"));
    m_action->setObjectName(QStringLiteral("action"));
    m_action->addItem(tr("Apply greylisting"), QStringLiteral("greylist"));
    m_action->addItem(tr("Take no action (bypass)"), QStringLiteral("bypass"));
    m_enabled->setObjectName(QStringLiteral("enabled"));
    m_enabled->setChecked(true);
    m_hasStart->setObjectName(QStringLiteral("hasStart"));
    m_hasEnd->setObjectName(QStringLiteral("hasEnd"));
    m_override->setObjectName(QStringLiteral("override"));
    m_bidirectional->setObjectName(QStringLiteral("bidirectional"));
    m_shadow->setObjectName(QStringLiteral("shadow"));
    m_ranges->setObjectName(QStringLiteral("sourceRanges"));
    m_ranges->setPlaceholderText(tr("one CIDR per line, e.g. 192.0.2.0/24; empty: any client"));
    m_ranges->setMaximumHeight(90);
    m_header->setObjectName(QStringLiteral("header"));

    // The conflict banner: shown when the proxy answered stale_version.
    m_conflict->setObjectName(QStringLiteral("conflict"));
    m_conflict->setAutoFillBackground(true);
    m_conflict->setStyleSheet(QStringLiteral("#conflict { background: #fff4ce; }"));
    m_conflictText->setWordWrap(true);
    auto *reapply = new QPushButton(tr("Reapply my changes"), m_conflict);
    reapply->setObjectName(QStringLiteral("reapply"));
    auto *theirs = new QPushButton(tr("Take theirs"), m_conflict);
    theirs->setObjectName(QStringLiteral("takeTheirs"));
    connect(reapply, &QPushButton::clicked, this, &PolicyDialog::reapplyOnLatest);
    connect(theirs, &QPushButton::clicked, this, &PolicyDialog::takeLatest);
    auto *banner = new QHBoxLayout(m_conflict);
    banner->addWidget(m_conflictText, 1);
    banner->addWidget(reapply);
    banner->addWidget(theirs);
    m_conflict->hide();

    auto *form = new QFormLayout;
    form->addRow(tr("Narrative"), m_narrative);
    m_errorLabels.insert(QStringLiteral("narrative"),
                         errorLabel(this, QStringLiteral("narrative")));
    form->addRow(QString(), m_errorLabels.value(QStringLiteral("narrative")));
    form->addRow(tr("Action"), m_action);
    form->addRow(tr("Emails from"), buildSpecifier(m_from, QStringLiteral("from"), true));
    form->addRow(tr("Emails to"), buildSpecifier(m_to, QStringLiteral("to"), false));
    auto *validity = new QHBoxLayout;
    validity->addWidget(m_enabled);
    validity->addSpacing(16);
    validity->addWidget(m_hasStart);
    validity->addWidget(m_start);
    validity->addWidget(m_hasEnd);
    validity->addWidget(m_end);
    validity->addStretch(1);
    form->addRow(tr("Validity"), validity);
    m_errorLabels.insert(QStringLiteral("validity"), errorLabel(this, QStringLiteral("validity")));
    form->addRow(QString(), m_errorLabels.value(QStringLiteral("validity")));
    form->addRow(QString(), m_override);
    form->addRow(QString(), m_bidirectional);
    form->addRow(QString(), m_shadow);
    form->addRow(tr("Source IP ranges"), m_ranges);
    m_errorLabels.insert(QStringLiteral("sourceRanges"),
                         errorLabel(this, QStringLiteral("sourceRanges")));
    form->addRow(QString(), m_errorLabels.value(QStringLiteral("sourceRanges")));

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_header);
    layout->addWidget(m_conflict);
    layout->addLayout(form);
    layout->addWidget(m_generalError);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &PolicyDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *replay = m_buttons->addButton(tr("Replay changes..."), QDialogButtonBox::ActionRole);
    replay->setObjectName(QStringLiteral("replay"));
    replay->setToolTip(tr("What the policies with this edit would change on the recorded "
                          "traffic, before saving"));
    connect(replay, &QPushButton::clicked, this, [this] { Q_EMIT replayRequested(policy()); });

    connect(m_narrative, &QLineEdit::textChanged, this, &PolicyDialog::validate);
    connect(m_ranges, &QPlainTextEdit::textChanged, this, &PolicyDialog::validate);
    for (QCheckBox *box : {m_hasStart, m_hasEnd})
        connect(box, &QCheckBox::toggled, this, &PolicyDialog::validate);
    for (QDateTimeEdit *edit : {m_start, m_end})
        connect(edit, &QDateTimeEdit::dateTimeChanged, this, &PolicyDialog::validate);
    m_header->setText(tr("New policy"));
    resize(720, sizeHint().height());
    validate();
}

QWidget *PolicyDialog::buildSpecifier(SpecifierEditor &editor, const QString &prefix, bool from)
{
    auto *box = new QWidget(this);
    auto *row = new QHBoxLayout;
    row->setContentsMargins(0, 0, 0, 0);
    editor.type = new QComboBox(box);
    editor.type->setObjectName(prefix + QStringLiteral(".type"));
    const QStringList labels = {tr("Everyone"), tr("Internal addresses"), tr("External addresses"),
                                tr("Domain"),   tr("Address group"),      tr("Single address")};
    for (int i = 0; i < kTypes.size(); ++i)
        editor.type->addItem(labels.at(i), kTypes.at(i));
    editor.value = new QComboBox(box);
    editor.value->setObjectName(prefix + QStringLiteral(".value"));
    editor.value->setEditable(true);
    editor.value->setInsertPolicy(QComboBox::NoInsert);
    editor.value->setMinimumContentsLength(24);
    editor.subdomains = new QCheckBox(tr("and subdomains"), box);
    editor.subdomains->setObjectName(prefix + QStringLiteral(".includeSubdomains"));
    row->addWidget(editor.type);
    row->addWidget(editor.value, 1);
    row->addWidget(editor.subdomains);
    if (from) {
        editor.basedOn = new QComboBox(box);
        editor.basedOn->setObjectName(prefix + QStringLiteral(".basedOn"));
        editor.basedOn->addItem(tr("envelope sender"), kBases.at(0));
        editor.basedOn->addItem(tr("header From"), kBases.at(1));
        editor.basedOn->addItem(tr("either"), kBases.at(2));
        editor.basedOn->setToolTip(tr("Addresses based on: which sender the From side is "
                                      "matched against"));
        row->addWidget(editor.basedOn);
    }
    auto *column = new QVBoxLayout(box);
    column->setContentsMargins(0, 0, 0, 0);
    column->addLayout(row);
    const QString field = prefix + QStringLiteral(".value");
    m_errorLabels.insert(field, errorLabel(box, field));
    column->addWidget(m_errorLabels.value(field));
    SpecifierEditor *e = &editor;
    connect(editor.type, &QComboBox::currentIndexChanged, this, [this, e] {
        updateSpecifierWidgets(*e);
        validate();
    });
    connect(editor.value, &QComboBox::editTextChanged, this, &PolicyDialog::validate);
    updateSpecifierWidgets(editor);
    return box;
}

void PolicyDialog::updateSpecifierWidgets(SpecifierEditor &editor)
{
    const QString type = editor.type->currentData().toString();
    const bool hasValue = type == u"domain" || type == u"group" || type == u"address";
    editor.value->setEnabled(hasValue);
    editor.subdomains->setEnabled(type == u"domain");
    const QString text = editor.value->currentText();
    editor.value->blockSignals(true);
    editor.value->clear();
    if (type == u"group")
        editor.value->addItems(m_groups);
    editor.value->setEditText(hasValue ? text : QString());
    editor.value->blockSignals(false);
    if (editor.value->lineEdit())
        editor.value->lineEdit()->setPlaceholderText(
            type == u"domain"    ? tr("partner.example")
            : type == u"address" ? tr("user@partner.example")
            : type == u"group"   ? tr("a sender group's name")
                                 : QString());
}

void PolicyDialog::setGroupNames(const QStringList &names)
{
    m_groups = names;
    updateSpecifierWidgets(m_from);
    updateSpecifierWidgets(m_to);
}

QString PolicyDialog::specifierError(const SpecifierEditor &editor) const
{
    const QString type = editor.type->currentData().toString();
    const QString value = editor.value->currentText().trimmed();
    if (type == u"domain")
        return PolicyFieldValidator::domainError(value);
    if (type == u"address")
        return PolicyFieldValidator::addressError(value);
    if (type == u"group") {
        if (value.isEmpty())
            return tr("choose a sender group");
        if (!m_groups.isEmpty() && !m_groups.contains(value, Qt::CaseInsensitive))
            return tr("no sender group is called \"%1\"").arg(value.left(80));
    }
    return {};
}

QHash<QString, QString> PolicyDialog::validationErrors() const
{
    QHash<QString, QString> errors;
    if (const QString e = PolicyFieldValidator::narrativeError(m_narrative->text()); !e.isEmpty())
        errors.insert(QStringLiteral("narrative"), e);
    if (const QString e = specifierError(m_from); !e.isEmpty())
        errors.insert(QStringLiteral("from.value"), e);
    if (const QString e = specifierError(m_to); !e.isEmpty())
        errors.insert(QStringLiteral("to.value"), e);
    if (m_hasStart->isChecked() && m_hasEnd->isChecked() &&
        m_end->dateTime() <= m_start->dateTime())
        errors.insert(QStringLiteral("validity"), tr("the end must come after the start"));
    const QStringList lines = m_ranges->toPlainText().split(u'\n');
    for (int i = 0; i < lines.size(); ++i) {
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty())
            continue;
        if (const QString e = PolicyFieldValidator::cidrError(line); !e.isEmpty()) {
            errors.insert(QStringLiteral("sourceRanges"), tr("line %1: %2").arg(i + 1).arg(e));
            break;
        }
    }
    return errors;
}

void PolicyDialog::setFieldError(const QString &field, const QString &error, bool fromServer)
{
    if (fromServer)
        m_serverErrors.insert(field, error);
    QLabel *label = m_errorLabels.value(field, m_generalError);
    label->setText(error);
    label->setVisible(!error.isEmpty());
}

QString PolicyDialog::fieldError(const QString &field) const
{
    const QLabel *label = m_errorLabels.value(field, m_generalError);
    return label->isHidden() ? QString() : label->text();
}

void PolicyDialog::validate()
{
    // What the admin types clears what the server said: it may no longer hold.
    m_serverErrors.clear();
    const QHash<QString, QString> errors = validationErrors();
    for (auto it = m_errorLabels.begin(); it != m_errorLabels.end(); ++it)
        setFieldError(it.key(), errors.value(it.key()), false);
    m_generalError->hide();
    m_start->setEnabled(m_hasStart->isChecked());
    m_end->setEnabled(m_hasEnd->isChecked());
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(errors.isEmpty() && !m_busy);
}

QJsonObject PolicyDialog::specifierJson(const SpecifierEditor &editor, bool from) const
{
    const QString type = editor.type->currentData().toString();
    QJsonObject o{{QStringLiteral("type"), type}};
    const QString value = editor.value->currentText().trimmed();
    if (type == u"domain") {
        o.insert(QStringLiteral("value"), value);
        o.insert(QStringLiteral("includeSubdomains"), editor.subdomains->isChecked());
    } else if (type == u"address" || type == u"group") {
        o.insert(QStringLiteral("value"), value);
    }
    if (from)
        o.insert(QStringLiteral("basedOn"), editor.basedOn->currentData().toString());
    return o;
}

void PolicyDialog::setSpecifier(SpecifierEditor &editor, const QJsonObject &json)
{
    const int type = editor.type->findData(json.value(QStringLiteral("type")).toString());
    editor.type->setCurrentIndex(type < 0 ? 0 : type);
    updateSpecifierWidgets(editor);
    editor.value->setEditText(json.value(QStringLiteral("value")).toString());
    editor.subdomains->setChecked(json.value(QStringLiteral("includeSubdomains")).toBool());
    if (editor.basedOn) {
        const int basis = editor.basedOn->findData(
            json.value(QStringLiteral("basedOn")).toString(QStringLiteral("envelope")));
        editor.basedOn->setCurrentIndex(basis < 0 ? 0 : basis);
    }
}

void PolicyDialog::setPolicy(const QJsonObject &p)
{
    m_id = p.value(QStringLiteral("id")).toInteger();
    m_version = p.value(QStringLiteral("version")).toInteger();
    m_readOnly = {};
    for (const QString &key : {QStringLiteral("updatedAt"), QStringLiteral("updatedBy")}) {
        if (p.contains(key))
            m_readOnly.insert(key, p.value(key));
    }
    m_narrative->setText(p.value(QStringLiteral("narrative")).toString());
    const int action = m_action->findData(p.value(QStringLiteral("action")).toString());
    m_action->setCurrentIndex(action < 0 ? 0 : action);
    setSpecifier(m_from, p.value(QStringLiteral("from")).toObject());
    setSpecifier(m_to, p.value(QStringLiteral("to")).toObject());
    m_enabled->setChecked(p.value(QStringLiteral("enabled")).toBool(true));
    m_override->setChecked(p.value(QStringLiteral("override")).toBool());
    m_bidirectional->setChecked(p.value(QStringLiteral("bidirectional")).toBool());
    m_shadow->setChecked(p.value(QStringLiteral("mode")).toString() == u"shadow");
    const QString start = p.value(QStringLiteral("start")).toString();
    const QString end = p.value(QStringLiteral("end")).toString();
    m_hasStart->setChecked(!start.isEmpty());
    if (!start.isEmpty())
        m_start->setDateTime(fromIso(start));
    m_hasEnd->setChecked(!end.isEmpty());
    if (!end.isEmpty())
        m_end->setDateTime(fromIso(end));
    QStringList ranges;
    const QJsonArray list = p.value(QStringLiteral("sourceRanges")).toArray();
    for (const QJsonValue &r : list)
        ranges.append(r.toString());
    m_ranges->setPlainText(ranges.join(u'\n'));
    m_header->setText(m_id == 0
                          ? tr("New policy")
                          : tr("Policy %1, version %2%3")
                                .arg(m_id)
                                .arg(m_version)
                                .arg(m_readOnly.isEmpty()
                                         ? QString()
                                         : tr(", last changed %1 by %2")
                                               .arg(m_readOnly.value(u"updatedAt").toString(),
                                                    m_readOnly.value(u"updatedBy").toString())));
    validate();
}

QJsonObject PolicyDialog::policy() const
{
    QJsonObject p{{QStringLiteral("narrative"), m_narrative->text()},
                  {QStringLiteral("action"), m_action->currentData().toString()},
                  {QStringLiteral("from"), specifierJson(m_from, true)},
                  {QStringLiteral("to"), specifierJson(m_to, false)},
                  {QStringLiteral("enabled"), m_enabled->isChecked()},
                  {QStringLiteral("override"), m_override->isChecked()},
                  {QStringLiteral("bidirectional"), m_bidirectional->isChecked()}};
    if (m_shadow->isChecked())
        p.insert(QStringLiteral("mode"), QStringLiteral("shadow"));
    if (m_id != 0) {
        p.insert(QStringLiteral("id"), m_id);
        p.insert(QStringLiteral("version"), m_version);
    }
    if (m_hasStart->isChecked())
        p.insert(QStringLiteral("start"), toIso(m_start->dateTime()));
    if (m_hasEnd->isChecked())
        p.insert(QStringLiteral("end"), toIso(m_end->dateTime()));
    QJsonArray ranges;
    const QStringList lines = m_ranges->toPlainText().split(u'\n');
    for (const QString &line : lines) {
        if (!line.trimmed().isEmpty())
            ranges.append(line.trimmed());
    }
    p.insert(QStringLiteral("sourceRanges"), ranges);
    for (auto it = m_readOnly.begin(); it != m_readOnly.end(); ++it)
        p.insert(it.key(), it.value());
    return p;
}

void PolicyDialog::accept()
{
    if (!validationErrors().isEmpty() || m_busy)
        return;
    m_busy = true;
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(false);
    Q_EMIT submitRequested(policy());
}

void PolicyDialog::submitSucceeded()
{
    m_busy = false;
    QDialog::accept();
}

QString PolicyDialog::fieldForPath(const QString &path)
{
    QString p = path;
    for (const QLatin1String prefix : {QLatin1String("params.policy."), QLatin1String("policy.")}) {
        if (p.startsWith(prefix)) {
            p = p.mid(prefix.size());
            break;
        }
    }
    if (p.startsWith(QLatin1String("from")))
        return QStringLiteral("from.value");
    if (p.startsWith(QLatin1String("to")))
        return QStringLiteral("to.value");
    if (p.startsWith(QLatin1String("sourceRanges")))
        return QStringLiteral("sourceRanges");
    if (p == u"start" || p == u"end")
        return QStringLiteral("validity");
    if (p == u"narrative")
        return p;
    return QStringLiteral("general");
}

void PolicyDialog::showServerError(const protocol::ProtocolError &error)
{
    m_busy = false;
    const QString field =
        error.field.isEmpty() ? QStringLiteral("general") : fieldForPath(error.field);
    setFieldError(field, tr("The proxy refused it: %1").arg(error.message), true);
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(true);
}

void PolicyDialog::showConflict(const QJsonObject &latest)
{
    m_busy = false;
    m_latest = latest;
    // Which fields the other change touched, compared with the form as it stands.
    const QJsonObject mine = policy();
    QStringList differ;
    for (auto it = latest.begin(); it != latest.end(); ++it) {
        const QString key = it.key();
        if (key == u"version" || key == u"updatedAt" || key == u"updatedBy" || key == u"id")
            continue;
        if (mine.value(key) != it.value())
            differ.append(key);
    }
    m_conflictText->setText(
        tr("Someone else changed this policy while you edited it: it is now version %1 (%2 "
           "by %3). Your edits are kept in the form. Fields that differ from theirs: %4. "
           "\"Reapply my changes\" saves your form over version %1; \"Take theirs\" loads "
           "their version instead.")
            .arg(latest.value(u"version").toInteger())
            .arg(latest.value(u"updatedAt").toString(), latest.value(u"updatedBy").toString(),
                 differ.isEmpty() ? tr("none") : differ.join(QStringLiteral(", "))));
    m_conflict->show();
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(false);
}

bool PolicyDialog::conflictShown() const
{
    return !m_conflict->isHidden();
}

void PolicyDialog::reapplyOnLatest()
{
    if (m_latest.isEmpty())
        return;
    m_version = m_latest.value(QStringLiteral("version")).toInteger();
    m_readOnly = {};
    for (const QString &key : {QStringLiteral("updatedAt"), QStringLiteral("updatedBy")}) {
        if (m_latest.contains(key))
            m_readOnly.insert(key, m_latest.value(key));
    }
    m_latest = {};
    m_conflict->hide();
    m_header->setText(
        tr("Policy %1: your edits, to be saved over version %2").arg(m_id).arg(m_version));
    validate();
}

void PolicyDialog::takeLatest()
{
    if (m_latest.isEmpty())
        return;
    const QJsonObject latest = std::exchange(m_latest, {});
    m_conflict->hide();
    setPolicy(latest);
}

} // namespace greygate
