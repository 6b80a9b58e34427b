/*
 * text.c - the words of pam_portal.so.  The French follows the original
 * web flow ("code de vérification", "Envoyer un nouveau code", "Modifier
 * l'adresse", "Continuer", "Annuler") and the transcripts of DESIGN.md.
 * Every conversion a message carries is listed in `args`; the code passes
 * exactly those, and tests/unit_text.c checks both languages agree.
 */
#include "text.h"

#define MSG(fr_, en_, args_)    { { .fr = (fr_), .en = (en_) }, (args_), false }
#define PROMPT(fr_, en_, args_) { { .fr = (fr_), .en = (en_) }, (args_), true }

const struct text text_table[TX_COUNT] = {
	[TX_UNAVAILABLE] = MSG(
		"Le service de connexion n'est pas disponible pour le moment. Réessayez plus tard.",
		"The sign-in service is unavailable at the moment. Please try again later.", ""),
	[TX_LOCKED_FOR] = MSG(
		"Votre compte est verrouillé à la suite de trop nombreux échecs. Réessayez dans %s.",
		"Your account is locked after too many failed attempts. Try again in %s.", "s"),
	[TX_LOCKED_ADMIN] = MSG(
		"Votre compte est verrouillé à la suite de trop nombreux échecs. "
		"Il le restera jusqu'à ce qu'un administrateur le déverrouille.",
		"Your account is locked after too many failed attempts. "
		"It stays locked until an administrator unlocks it.", ""),
	[TX_ASK_PASSWORD] = PROMPT(
		"Mot de passe : ",
		"Password: ", ""),

	[TX_INTRO_SINCE] = MSG(
		"Votre compte doit être relié au nouveau portail : "
		"vous n'avez pas ouvert de session depuis le %s.",
		"Your account must be connected to the new portal: "
		"you have not signed in since %s.", "s"),
	[TX_INTRO] = MSG(
		"Votre compte doit être relié au nouveau portail avant que vous puissiez ouvrir une session.",
		"Your account must be connected to the new portal before you can sign in.", ""),
	[TX_INTRO_RESET] = MSG(
		"Votre compte doit être relié de nouveau au portail : "
		"un administrateur a demandé que votre mot de passe soit créé de nouveau.",
		"Your account must be connected to the portal again: "
		"an administrator has asked for your password to be created anew.", ""),

	[TX_ASK_EMAIL_ORG] = PROMPT(
		"Adresse courriel préférée (celle fournie à %s; q pour annuler) : ",
		"Preferred e-mail address (the one you gave %s; q to cancel): ", "s"),
	[TX_ASK_EMAIL] = PROMPT(
		"Adresse courriel préférée (q pour annuler) : ",
		"Preferred e-mail address (q to cancel): ", ""),
	[TX_NOT_EMAIL] = MSG(
		"Ce n'est pas une adresse courriel. Tapez-la sous la forme nom@exemple.org.",
		"That is not an e-mail address. Type it in the form name@example.org.", ""),
	[TX_CODE_SENT] = MSG(
		"Si cette adresse est celle de votre dossier, un code de vérification y a été envoyé. "
		"Il est valide %s.",
		"If this is the address on file, a verification code has been sent to it. "
		"It is valid for %s.", "s"),
	[TX_CODE_RESENT] = MSG(
		"Si cette adresse est celle de votre dossier, un nouveau code de vérification y a été "
		"envoyé. Il remplace le précédent et il est valide %s.",
		"If this is the address on file, a new verification code has been sent to it. "
		"It replaces the previous one and is valid for %s.", "s"),
	[TX_CODE_RECENT] = MSG(
		"Un code de vérification a déjà été envoyé récemment pour ce compte. Vous pouvez le "
		"taper ci-dessous, ou demander un nouveau code dans %s.",
		"A verification code was already sent for this account recently. You can type it "
		"below, or ask for a new code in %s.", "s"),
	[TX_WAIT_RESEND] = MSG(
		"Attendez encore %s avant de demander un nouveau code.",
		"Please wait %s more before asking for a new code.", "s"),

	[TX_ASK_CODE] = PROMPT(
		"Code de vérification (r : envoyer un nouveau code, e : modifier l'adresse, q : annuler) : ",
		"Verification code (r: send a new code, e: change the address, q: cancel): ", ""),
	[TX_CODE_FORM] = MSG(
		"Ce n'est pas un code de vérification. Tapez les chiffres reçus par courriel, ou r, e ou q.",
		"That is not a verification code. Type the digits from the e-mail, or r, e or q.", ""),
	[TX_CODE_WRONG_ONE] = MSG(
		"Ce code n'est pas le bon. Il vous reste un essai.",
		"That code is not right. You have one try left.", ""),
	[TX_CODE_WRONG_MANY] = MSG(
		"Ce code n'est pas le bon. Il vous reste %u essais.",
		"That code is not right. You have %u tries left.", "u"),
	[TX_CODE_EXPIRED] = MSG(
		"Ce code a expiré. Tapez r pour recevoir un nouveau code.",
		"This code has expired. Type r to get a new one.", ""),
	[TX_CODE_DEAD] = MSG(
		"Ce code ne fonctionne plus. Tapez r pour recevoir un nouveau code.",
		"This code no longer works. Type r to get a new one.", ""),

	[TX_VERIFIED] = MSG(
		"Nous avons vérifié l'adresse courriel.",
		"The e-mail address is verified.", ""),
	[TX_ASK_CONTINUE] = PROMPT(
		"Appuyez sur Entrée pour continuer (e : modifier l'adresse, q : annuler) : ",
		"Press Enter to continue (e: change the address, q: cancel): ", ""),

	[TX_ASK_NEW_PASSWORD] = PROMPT(
		"Créez votre nouveau mot de passe (au moins %u caractères) : ",
		"Create your new password (at least %u characters): ", "u"),
	[TX_ASK_PASSWORD_AGAIN] = PROMPT(
		"Saisissez-le de nouveau : ",
		"Type it again: ", ""),
	[TX_PASSWORD_MISMATCH] = MSG(
		"Les deux mots de passe ne sont pas identiques.",
		"The two passwords are not the same.", ""),
	[TX_PW_TOO_SHORT] = MSG(
		"Ce mot de passe est trop court : il doit compter au moins %u caractères.",
		"This password is too short: it must have at least %u characters.", "u"),
	[TX_PW_TOO_LONG] = MSG(
		"Ce mot de passe est trop long.",
		"This password is too long.", ""),
	[TX_PW_BAD_UTF8] = MSG(
		"Ce mot de passe contient des caractères qui ne sont pas du texte valide (UTF-8).",
		"This password contains characters that are not valid text (UTF-8).", ""),
	[TX_PW_COMMON] = MSG(
		"Ce mot de passe est trop courant ou trop facile à deviner.",
		"This password is too common or too easy to guess.", ""),
	[TX_PW_HAS_USER] = MSG(
		"Ce mot de passe contient votre nom d'utilisateur.",
		"This password contains your user name.", ""),
	[TX_PW_HAS_EMAIL] = MSG(
		"Ce mot de passe contient votre adresse courriel.",
		"This password contains your e-mail address.", ""),
	[TX_PW_GIVE_UP] = MSG(
		"Votre mot de passe n'a pas été créé après %u essais. Rien n'a été modifié.",
		"Your password was not created after %u tries. Nothing was changed.", "u"),
	[TX_TICKET] = MSG(
		"La vérification a expiré et rien n'a été modifié. Recommencez depuis le début.",
		"The verification has expired and nothing was changed. Please start again.", ""),

	[TX_CREATED_RELOGIN] = MSG(
		"Votre mot de passe a été créé. "
		"Ouvrez une nouvelle session avec votre nouveau mot de passe.",
		"Your password has been created. Sign in again with your new password.", ""),
	[TX_CREATED] = MSG(
		"Votre mot de passe a été créé.",
		"Your password has been created.", ""),
	[TX_CANCELLED] = MSG(
		"Annulé : rien n'a été modifié.",
		"Cancelled: nothing was changed.", ""),
};
